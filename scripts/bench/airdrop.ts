import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Contract, dataSlice, getAddress, id, NonceManager, Wallet } from "ethers";
import { collectibleEditionsInterface } from "../../core/editions/abi.ts";
import { DEV_KEYS } from "../dev/chain.ts";
import { encodePng } from "../dev/demo-edition.ts";
import { startStack } from "../dev/stack.ts";
import { progressBar } from "../progress.ts";
import { freshDatabase } from "./fresh-database.ts";

/**
 * `npm run bench:airdrop`: a museum drop. One edition of --count items (default 80,000) airdropped to as many
 * distinct holders through the API (`airdrop` requests of up to 10,000 holders), from accepted to every item minted
 * (the operations CONFIRMED) and visible in the gallery (its page says "N of N held"). The baseline, run in the same
 * process on the same chain: a naive drop of --naive items (default 200), one `airdrop` transaction per holder, each
 * waited for.
 */
const { values: args } = parseArgs({
  options: {
    count: { type: "string", default: "80000" },
    naive: { type: "string", default: "200" },
    "database-url": { type: "string" },
  },
});
const COUNT = Number(args.count);
const NAIVE = Number(args.naive);
if (!(COUNT > 0) || !(NAIVE > 0)) throw new Error("--count and --naive must be positive");
const PER_REQUEST = 10_000;
// Hardhat's funded development account #3.
const NAIVE_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";

const dataDir = mkdtempSync(join(tmpdir(), "hallmark-bench-airdrop-"));
const database = args["database-url"] ? await freshDatabase(args["database-url"]) : undefined;
const stack = await startStack({
  env: {
    ...process.env,
    NODE_ENV: "test",
    HALLMARK_DATA_DIR: dataDir,
    PORT: "0",
    CHAIN_PORT: "0",
    LOG_LEVEL: process.env.LOG_LEVEL ?? "silent",
    RATE_LIMIT_PER_INSTITUTION: "0",
    RATE_LIMIT_PER_IP: "0",
    ...(database ? { DATABASE_URL: database.url } : {}),
  },
  notice: () => {},
});
const { devInfo } = stack;
const base = devInfo.graphqlUrl.replace(/\/graphql$/, "");

async function gql<T = any>(query: string, variables: Record<string, unknown>): Promise<T> {
  const post = () =>
    fetch(devInfo.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${devInfo.apiKey}` },
      body: JSON.stringify({ query, variables }),
    });
  // Once more on a connection the server closed as it went idle (the keep-alive race): every request here is a read
  // or carries an idempotency key.
  const res = await post().catch(() => post());
  const body = (await res.json()) as { data?: T; errors?: unknown };
  if (!body.data) throw new Error(`GraphQL answered ${JSON.stringify(body).slice(0, 500)}`);
  return body.data;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An edition created through the API, as a museum creates one, CONFIRMED on chain. */
async function createEdition(name: string, maxSupply: number): Promise<{ id: string; contractAddress: string; chainEditionId: string; galleryUrl: string }> {
  const form = new FormData();
  form.set("file", new Blob([new Uint8Array(encodePng(64, 48, (x, y) => [x * 4, y * 5, 120]))], { type: "image/png" }), "drop.png");
  const media = (await (await fetch(`${base}/media`, { method: "POST", headers: { authorization: `Bearer ${devInfo.apiKey}`, "x-graphql-csrf": "1" }, body: form })).json()) as { cid: string };
  const created = await gql(
    `mutation ($input: CreateEditionInput!) { createEdition(input: $input) { ... on CreateEditionPayload { edition { id } } ... on Error { code message } } }`,
    { input: { name, description: "A museum drop.", images: [{ cid: media.cid, label: "The drop" }], maxSupply, transferPolicy: "LOCKED", idempotencyKey: `bench-${name}` } },
  );
  const editionId = created.createEdition.edition?.id;
  if (!editionId) throw new Error(`createEdition refused: ${JSON.stringify(created)}`);
  for (;;) {
    const { edition } = await gql(`query ($id: ID!) { edition(id: $id) { id status error contractAddress chainEditionId galleryUrl } }`, { id: editionId });
    if (edition.status === "CONFIRMED") return edition;
    if (edition.status === "FAILED") throw new Error(`the edition failed: ${edition.error}`);
    await sleep(200);
  }
}

/** One transaction an item, each waited for: what a script calling the contract directly does. */
async function naiveDrop(contract: string, editionId: bigint): Promise<number> {
  // The contract's admin (the deployer) makes a key of the naive script's own an issuer, so its nonces never meet the worker's.
  const admin = new Contract(contract, collectibleEditionsInterface(), new Wallet(DEV_KEYS.deployer, stack.provider));
  const issuer = new NonceManager(new Wallet(NAIVE_KEY, stack.provider));
  await (await admin.grantRole!(await admin.ISSUER_ROLE!(), await issuer.getAddress())).wait();
  const editions = new Contract(contract, collectibleEditionsInterface(), issuer);
  const started = performance.now();
  for (let i = 0; i < NAIVE; i++) await (await editions.airdrop!(editionId, [new Wallet(id(`naive holder ${i}`)).address])).wait();
  return NAIVE / ((performance.now() - started) / 1000);
}

/** Gas per item of the drop's transactions (the whole transaction's, as paid), from their receipts. */
async function gasPerItem(operations: string[]): Promise<number> {
  let gas = 0n;
  let items = 0;
  for (const op of operations) {
    const { editionOperation } = await gql(`query ($id: ID!) { editionOperation(id: $id) { minted txHashes } }`, { id: op });
    items += editionOperation.minted;
    for (const hash of editionOperation.txHashes as string[]) gas += (await stack.provider.getTransactionReceipt(hash))!.gasUsed;
  }
  return Number(gas) / items;
}

async function hallmarkDrop(edition: { id: string; galleryUrl: string }) {
  // Distinct addresses without a key each (deriving 80,000 public keys would hold the process for a minute).
  const holders = Array.from({ length: COUNT }, (_, i) => getAddress(dataSlice(id(`drop holder ${i}`), 12)));
  const started = performance.now();
  const operations: string[] = [];
  for (let offset = 0; offset < COUNT; offset += PER_REQUEST) {
    const res = await gql(
      `mutation ($input: AirdropInput!) { airdrop(input: $input) { ... on EditionOperationPayload { operation { id } } ... on Error { code message } } }`,
      { input: { editionId: edition.id, holders: holders.slice(offset, offset + PER_REQUEST), idempotencyKey: `bench-drop-${offset}` } },
    );
    if (!res.airdrop.operation) throw new Error(`airdrop refused: ${JSON.stringify(res.airdrop)}`);
    operations.push(res.airdrop.operation.id);
  }
  const accepted = performance.now();
  const bar = progressBar("minted", COUNT);
  for (;;) {
    const states = await Promise.all(operations.map((op) => gql(`query ($id: ID!) { editionOperation(id: $id) { status minted error } }`, { id: op })));
    const minted = states.reduce((n, s) => n + s.editionOperation.minted, 0);
    bar.update(minted);
    const failed = states.find((s) => s.editionOperation.status === "FAILED");
    if (failed) throw new Error(`an airdrop failed: ${failed.editionOperation.error}`);
    if (states.every((s) => s.editionOperation.status === "CONFIRMED")) break;
    await sleep(500);
  }
  bar.done();
  const minted = performance.now();
  const page = await (await fetch(edition.galleryUrl)).text();
  const shown = performance.now();
  const held = new RegExp(`${COUNT.toLocaleString("en")}|${COUNT}`).test(page) && /held/.test(page);
  if (!page.includes(`${COUNT} of ${COUNT} held`) && !held) throw new Error("the gallery does not show every item held");
  return { gasPerItem: await gasPerItem(operations), acceptedS: (accepted - started) / 1000, mintedS: (minted - started) / 1000, galleryS: (shown - minted) / 1000, totalS: (shown - started) / 1000 };
}

try {
  process.stderr.write(`creating the editions…\n`);
  const naiveEdition = await createEdition("Naive drop", NAIVE);
  const drop = await createEdition("Museum drop", COUNT);
  process.stderr.write(`naive drop: ${NAIVE} items, one transaction each…\n`);
  const naive = await naiveDrop(naiveEdition.contractAddress, BigInt(naiveEdition.chainEditionId));
  process.stderr.write(`hallmark drop: ${COUNT} items to ${COUNT} holders…\n`);
  const result = await hallmarkDrop(drop);
  const rate = COUNT / result.totalS;
  console.log(`naive drop:    ${naive.toFixed(1)} items/s (${NAIVE} items, one transaction each)`);
  console.log(`hallmark drop: ${COUNT} items to ${COUNT} distinct holders: accepted in ${result.acceptedS.toFixed(1)} s, all minted at ${result.mintedS.toFixed(1)} s, gallery page in ${result.galleryS.toFixed(1)} s`);
  console.log(`gas per item: ${Math.round(result.gasPerItem).toLocaleString("en")} (every airdrop transaction's gasUsed over the items minted)`);
  console.log(`database: ${stack.db.kind === "postgres" ? "PostgreSQL server" : "embedded PGlite"}; gas cap per transaction ${stack.config.chain.txGasCap}`);
  console.log(`airdrop-seconds: ${result.totalS.toFixed(1)} (${(rate / naive).toFixed(1)}x naive)`);
} finally {
  await stack.stop();
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
