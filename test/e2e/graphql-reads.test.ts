import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { and, asc, eq, sql } from "drizzle-orm";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schema, type Database } from "../../core/db/index.ts";
import { certificateOperations, certificates, collections, editionMintBatches, editionOperations, editions, issuances, revocations } from "../../core/db/schema.ts";
import { createApp } from "../../server/app.ts";
import { encodePng } from "../../scripts/dev/demo-edition.ts";
import { issueCertificate, revokeCertificate } from "../core/verification/certificates.ts";
import { startTestStack, waitFor } from "../support/stack.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;

/** A drizzle over the stack's own database client that counts every statement it sends. */
async function countingDatabase(stack: Stack): Promise<{ db: Database; queries: () => number }> {
  let n = 0;
  const client = (stack.db.db as unknown as { $client: unknown }).$client;
  // A server, and PGlite on a thread of its own, are reached through a pg pool: its statements are counted there, as
  // the hottest reads go to the pool without Drizzle (core/db/raw-rows.ts). PGlite in this thread: Drizzle's log.
  const { default: pg } = await import("pg");
  if (client instanceof pg.Pool) {
    const counting = Object.create(client, { query: { value: (...args: unknown[]) => (n++, (client.query as (...a: unknown[]) => unknown)(...args)) } }) as typeof client;
    const db = (await import("drizzle-orm/node-postgres")).drizzle({ client: counting, schema });
    return { db: db as unknown as Database, queries: () => n };
  }
  const logger = { logQuery: () => void n++ };
  const db = (await import("drizzle-orm/pglite")).drizzle({ client: client as never, schema, logger });
  return { db: db as unknown as Database, queries: () => n };
}

interface GqlError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string };
}

/** POSTs a query and returns the whole response, errors included (graphql-request throws on them). */
async function post(url: string, apiKey: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: Record<string, any> | null; errors?: GqlError[] };
}

const HOLDERS = [Wallet.createRandom().address, Wallet.createRandom().address, Wallet.createRandom().address];
const FIXTURES = 130;
const BASE_TIME = Date.parse("2030-01-01T00:00:00Z");

const PAGE = `
  query Page($first: Int, $after: String, $last: Int, $before: String, $filter: CertificateFilter, $orderBy: SortOrder) {
    certificates(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id nodeId owner status } }
    }
  }
`;

describe("GraphQL reads: connections, global ids, batching, history", () => {
  let stack: Stack;
  let url: string;
  let apiKey: string;
  let otherCollection: string;
  /** The fixture certificates in (createdAt, id) order. */
  let ordered: { id: string; owner: string; status: string; collectionId: string; createdAt: Date }[];
  let server: Server;
  let counted: Awaited<ReturnType<typeof countingDatabase>>;
  let countedUrl: string;

  beforeAll(async () => {
    stack = await startTestStack();
    url = stack.devInfo.graphqlUrl;
    apiKey = stack.devInfo.apiKey;
    const db = stack.db.db;
    const institutionId = stack.devInfo.institutionId;
    const [col] = await db
      .insert(collections)
      .values({ institutionId, name: "Second", symbol: "SEC", chainId: stack.devInfo.chainId, contractAddress: Wallet.createRandom().address, deployBlock: 0 })
      .returning();
    otherCollection = col!.id;
    // Seven certificates to an instant, so the order leans on ids as well as times.
    const rows = Array.from({ length: FIXTURES }, (_, i) => ({
      issuanceId: randomUUID(),
      collectionId: i % 2 ? otherCollection : stack.devInfo.collectionId,
      owner: HOLDERS[i % 3]!,
      createdAt: new Date(BASE_TIME + Math.floor(i / 7) * 1000),
      revoked: i % 5 === 0,
    }));
    await db.insert(issuances).values(
      rows.map((r, i) => ({
        id: r.issuanceId,
        institutionId,
        collectionId: r.collectionId,
        idempotencyKey: `reads-${i}`,
        requestHash: "x",
        requestId: `0x${r.issuanceId.replaceAll("-", "").padEnd(64, "0")}`,
        recipient: r.owner,
        document: {},
        status: "CONFIRMED" as const,
        createdAt: r.createdAt,
      })),
    );
    const certs = await db
      .insert(certificates)
      .values(
        rows.map((r, i) => ({
          issuanceId: r.issuanceId,
          institutionId,
          collectionId: r.collectionId,
          tokenId: String(1_000_000 + i),
          owner: r.owner,
          metadataUri: "ipfs://bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
          digest: `0x${"00".repeat(32)}`,
          txHash: `0x${"11".repeat(32)}`,
          blockNumber: 1,
          status: r.revoked ? ("REVOKED" as const) : ("VALID" as const),
          createdAt: r.createdAt,
        })),
      )
      .returning();
    await db.insert(revocations).values(
      certs
        .filter((c) => c.status === "REVOKED")
        .map((c, i) => ({
          id: randomUUID(),
          institutionId,
          certificateId: c.id,
          idempotencyKey: `reads-revoke-${i}`,
          requestHash: "x",
          reason: "fixture",
          reasonCode: "UNSPECIFIED",
          status: "CONFIRMED" as const,
        })),
    );
    ordered = await db
      .select()
      .from(certificates)
      .where(and(eq(certificates.institutionId, institutionId), sql`${certificates.createdAt} >= ${new Date(BASE_TIME)}`))
      .orderBy(asc(certificates.createdAt), asc(certificates.id));
    expect(ordered).toHaveLength(FIXTURES);

    // A server of the test's own over the same database, whose statements are counted.
    counted = await countingDatabase(stack);
    server = createApp({ config: stack.config, db: counted.db, ipfs: stack.ipfs, logger: stack.logger, provider: stack.provider }).listen(0, "127.0.0.1");
    await new Promise<void>((ok) => server.once("listening", ok));
    countedUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  }, 120_000);

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
    await stack?.cleanup();
  });

  const fixtures = { from: new Date(BASE_TIME).toISOString() };

  async function walk(vars: { orderBy: "ASC" | "DESC"; backwards?: boolean; size: number }) {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const page = {
        ...(vars.backwards ? { last: vars.size, before: cursor } : { first: vars.size, after: cursor }),
        orderBy: vars.orderBy,
        filter: fixtures,
      };
      const res = await post(url, apiKey, PAGE, page);
      expect(res.errors).toBeUndefined();
      const c = res.data!.certificates;
      expect(c.totalCount).toBe(FIXTURES);
      const ids = c.edges.map((e: any) => e.node.id as string);
      seen.push(...(vars.backwards ? ids.reverse() : ids));
      const more = vars.backwards ? c.pageInfo.hasPreviousPage : c.pageInfo.hasNextPage;
      expect(c.pageInfo.startCursor).toBe(c.edges[0]?.cursor ?? null);
      if (!more) return seen;
      cursor = vars.backwards ? c.pageInfo.startCursor : c.pageInfo.endCursor;
    }
    throw new Error("did not end");
  }

  it("pages through every certificate once, in (createdAt, id) order, forwards and backwards, ASC and DESC", async () => {
    const asc = ordered.map((c) => c.id);
    expect(await walk({ orderBy: "ASC", size: 17 })).toEqual(asc);
    expect(await walk({ orderBy: "DESC", size: 23 })).toEqual([...asc].reverse());
    // Reading from the end: the last page first, each page in the requested order.
    expect((await walk({ orderBy: "ASC", size: 30, backwards: true })).reverse()).toEqual(asc);
    expect((await walk({ orderBy: "DESC", size: 100, backwards: true })).reverse()).toEqual([...asc].reverse());
  });

  it("pageInfo: previous and next pages around a cursor", async () => {
    const first = (await post(url, apiKey, PAGE, { first: 5, orderBy: "ASC", filter: fixtures })).data!.certificates;
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const second = (await post(url, apiKey, PAGE, { first: 5, after: first.pageInfo.endCursor, orderBy: "ASC", filter: fixtures })).data!.certificates;
    expect(second.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    expect(second.edges.map((e: any) => e.node.id)).toEqual(ordered.slice(5, 10).map((c) => c.id));
    const back = (await post(url, apiKey, PAGE, { last: 5, before: second.pageInfo.startCursor, orderBy: "ASC", filter: fixtures })).data!.certificates;
    expect(back.edges.map((e: any) => e.node.id)).toEqual(ordered.slice(0, 5).map((c) => c.id));
    expect(back.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
  });

  it("filters by status, holder (any letter case), collection and issue date range; totalCount counts every page", async () => {
    const total = async (filter: Record<string, unknown>) => {
      const res = await post(url, apiKey, PAGE, { first: 1, filter: { ...fixtures, ...filter } });
      expect(res.errors).toBeUndefined();
      return res.data!.certificates.totalCount as number;
    };
    expect(await total({ status: "REVOKED" })).toBe(ordered.filter((c) => c.status === "REVOKED").length);
    expect(await total({ holder: HOLDERS[1]!.toLowerCase() })).toBe(ordered.filter((c) => c.owner === HOLDERS[1]).length);
    expect(await total({ holder: `0x${HOLDERS[1]!.slice(2).toUpperCase()}`, status: "VALID" })).toBe(
      ordered.filter((c) => c.owner === HOLDERS[1] && c.status === "VALID").length,
    );
    expect(await total({ collectionId: otherCollection })).toBe(ordered.filter((c) => c.collectionId === otherCollection).length);
    const from = new Date(BASE_TIME + 3000);
    const to = new Date(BASE_TIME + 9000);
    expect(await total({ from: from.toISOString(), to: to.toISOString() })).toBe(ordered.filter((c) => c.createdAt >= from && c.createdAt < to).length);
  });

  it("refuses a page over 100, first with last, a forged cursor and a malformed holder with BAD_USER_INPUT", async () => {
    for (const vars of [{ first: 101 }, { last: 101 }, { first: -1 }, { first: 1, last: 1 }, { after: "bm90IGEgY3Vyc29y" }, { filter: { holder: "0x123" } }]) {
      const res = await post(url, apiKey, PAGE, vars);
      expect(res.errors?.[0]?.extensions?.code, JSON.stringify(vars)).toBe("BAD_USER_INPUT");
    }
    const hundred = await post(url, apiKey, PAGE, { first: 100 });
    expect(hundred.errors).toBeUndefined();
    expect(hundred.data!.certificates.edges).toHaveLength(100);
  });

  it("issuances, revocations and collections are connections too", async () => {
    const res = await post(
      url,
      apiKey,
      `query($holder: String!) {
        issuances(first: 3, filter: { holder: $holder, status: CONFIRMED }) { totalCount edges { node { id recipient certificate { id } } } }
        revocations(first: 100, filter: { holder: $holder }) { totalCount edges { node { id certificate { owner } } } }
        collections(orderBy: ASC) { totalCount edges { node { id institution { id } } } }
      }`,
      { holder: HOLDERS[2]!.toLowerCase() },
    );
    expect(res.errors).toBeUndefined();
    const mine = ordered.filter((c) => c.owner === HOLDERS[2]);
    expect(res.data!.issuances.totalCount).toBe(mine.length);
    expect(res.data!.issuances.edges[0].node.recipient).toBe(HOLDERS[2]);
    expect(res.data!.revocations.totalCount).toBe(mine.filter((c) => c.status === "REVOKED").length);
    for (const e of res.data!.revocations.edges) expect(e.node.certificate.owner).toBe(HOLDERS[2]);
    expect(res.data!.collections.edges.map((e: any) => e.node.id)).toEqual([stack.devInfo.collectionId, otherCollection]);
    expect(res.data!.collections.edges[0].node.institution.id).toBe(stack.devInfo.institutionId);
  });

  it("node and nodes fetch by global id; a missing id is null with NOT_FOUND; id arguments take global ids too", async () => {
    const [a, b] = ordered;
    const ids = (await post(url, apiKey, PAGE, { first: 2, orderBy: "ASC", filter: fixtures })).data!.certificates.edges.map((e: any) => e.node.nodeId);
    const one = await post(url, apiKey, `query($id: ID!) { node(id: $id) { __typename nodeId ... on Certificate { id } } }`, { id: ids[0] });
    expect(one).toEqual({ data: { node: { __typename: "Certificate", nodeId: ids[0], id: a!.id } } });
    const missing = Buffer.from(`Certificate:${randomUUID()}`).toString("base64");
    for (const id of [missing, "garbage", Buffer.from("Query:x").toString("base64"), a!.id]) {
      const res = await post(url, apiKey, `query($id: ID!) { node(id: $id) { nodeId } }`, { id });
      expect(res.data, id).toEqual({ node: null });
      expect(res.errors?.map((e) => e.extensions?.code), id).toEqual(["NOT_FOUND"]);
    }
    const many = await post(url, apiKey, `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Certificate { id } } }`, { ids: [ids[1], missing, ids[0]] });
    expect(many.data).toEqual({ nodes: [{ id: b!.id }, null, { id: a!.id }] });
    expect(many.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[["nodes", 1], "NOT_FOUND"]]);
    const byGlobal = await post(url, apiKey, `query($id: ID!) { certificate(id: $id) { id } }`, { id: ids[0] });
    expect(byGlobal).toEqual({ data: { certificate: { id: a!.id } } });
  });

  it("a page of 100 certificates with nested fields costs the same number of queries as a page of 10", async () => {
    const NESTED = `query($first: Int!) {
      certificates(first: $first, filter: { from: "${fixtures.from}" }) {
        totalCount
        edges { node {
          id
          collection { id name institution { id name } }
          issuance { id status collection { id } certificate { id } }
          revocations { id status certificate { id collection { id } } }
          history { kind at txHash blockNumber institution { id } }
        } }
      }
    }`;
    const cost = async (first: number) => {
      const before = counted.queries();
      const res = await post(countedUrl, apiKey, NESTED, { first });
      expect(res.errors).toBeUndefined();
      expect(res.data!.certificates.edges).toHaveLength(first);
      return counted.queries() - before;
    };
    await cost(10); // warms up whatever is read once per process
    const ten = await cost(10);
    const hundred = await cost(100);
    expect(hundred).toBe(ten);
    // Auth, the page, its count, and one query per kind of nested row.
    expect(ten).toBeGreaterThan(5);
    expect(ten).toBeLessThan(15);
  });

  it("a page's collections and histories, read ahead for the page, are what each certificate answers alone", async () => {
    // Besides the fixtures' confirmed revocations: a confirmed suspension, and a suspension and a revocation not yet
    // confirmed, which a history leaves out.
    const [a, b] = ordered.filter((c) => c.status === "VALID");
    const institutionId = stack.devInfo.institutionId;
    const later = new Date(Date.now() + 1000);
    await stack.db.db.insert(certificateOperations).values([
      { id: randomUUID(), institutionId, certificateId: a!.id, kind: "SUSPEND", idempotencyKey: "reads-suspend-a", requestHash: "x", status: "CONFIRMED", txHash: `0x${"22".repeat(32)}`, updatedAt: later },
      { id: randomUUID(), institutionId, certificateId: b!.id, kind: "SUSPEND", idempotencyKey: "reads-suspend-b", requestHash: "x", status: "QUEUED" },
    ]);
    await stack.db.db.insert(revocations).values({
      id: randomUUID(), institutionId, certificateId: a!.id, idempotencyKey: "reads-revoke-pending", requestHash: "x", reason: "fixture", reasonCode: "UNSPECIFIED", status: "QUEUED",
    });
    const NODE = `id collection { id name } history { kind at txHash blockNumber revocationReason institution { id } }`;
    const page = await post(url, apiKey, `query($f: CertificateFilter) { certificates(first: 100, orderBy: ASC, filter: $f) { totalCount edges { node { ${NODE} } } } }`, { f: fixtures });
    expect(page.errors).toBeUndefined();
    const nodes = page.data!.certificates.edges.map((e: any) => e.node);
    expect(nodes).toHaveLength(100);
    expect(page.data!.certificates.totalCount).toBe(FIXTURES);
    const alone = await Promise.all(nodes.map(async (n: any) => (await post(url, apiKey, `query($id: ID!) { certificate(id: $id) { ${NODE} } }`, { id: n.id })).data!.certificate));
    expect(nodes).toEqual(alone);
    expect(nodes.find((n: any) => n.id === a!.id).history.map((e: any) => e.kind)).toEqual(["ISSUED", "SUSPENDED"]);
    expect(nodes.find((n: any) => n.id === b!.id).history.map((e: any) => e.kind)).toEqual(["ISSUED"]);
    expect(nodes.filter((n: any) => n.history.some((e: any) => e.kind === "REVOKED")).length).toBe(ordered.slice(0, 100).filter((c) => c.status === "REVOKED").length);
    expect(new Set(nodes.map((n: any) => n.collection.id))).toEqual(new Set(ordered.slice(0, 100).map((c) => c.collectionId)));
  });

  it("a page of 100 editions with their contract, pages and operations costs the same number of queries as a page of 10", { timeout: 120_000 }, async () => {
    // One edition made through the API and CONFIRMED in the institution's contract, copied 120 times, each copy with
    // one airdrop sent in two batches.
    const institutionId = stack.devInfo.institutionId;
    const form = new FormData();
    form.set("file", new Blob([new Uint8Array(encodePng(4, 4, () => [20, 40, 60]))]), "reads.png");
    const uploaded = await fetch(url.replace(/\/graphql$/, "/media"), { method: "POST", headers: { authorization: `Bearer ${apiKey}`, "x-graphql-csrf": "1" }, body: form });
    const { cid } = (await uploaded.json()) as { cid: string };
    const made = await post(url, apiKey, `mutation($cid: String!) { createEdition(input: { name: "Reads", images: [{ cid: $cid, label: "x" }], maxSupply: 5, transferPolicy: LOCKED, idempotencyKey: "reads-edition" }) { ... on CreateEditionPayload { edition { id } } } }`, { cid });
    expect(made.errors).toBeUndefined();
    const demo = await waitFor(
      async () => (await stack.db.db.select().from(editions).where(eq(editions.id, made.data!.createEdition.edition.id)))[0],
      (e) => e?.status === "CONFIRMED" || e?.status === "FAILED",
      60_000,
    );
    expect(demo!.status).toBe("CONFIRMED");
    const copies = await stack.db.db
      .insert(editions)
      .values(Array.from({ length: 120 }, (_, i) => ({ ...demo!, id: randomUUID(), idempotencyKey: `reads-edition-${i}`, chainEditionId: String(1_000 + i), createdAt: new Date(BASE_TIME + i) })))
      .returning();
    const ops = await stack.db.db
      .insert(editionOperations)
      .values(copies.map((e, i) => ({ institutionId, editionId: e.id, kind: "AIRDROP" as const, idempotencyKey: `reads-op-${i}`, requestHash: "x", holders: [], total: 2, sent: 2, minted: 2, status: "CONFIRMED" as const })))
      .returning();
    await stack.db.db.insert(editionMintBatches).values(
      ops.flatMap((o) => [0, 1].map((start) => ({ operationId: o.id, start, count: 1, status: "CONFIRMED" as const, chainTxId: randomUUID(), txHash: `0x${String(start).repeat(64)}` }))),
    );
    const NESTED = `query($first: Int!) { editions(first: $first) { edges { node { id nodeId name contractAddress galleryUrl manifestUrl images { cid } } } } }`;
    const cost = async (first: number) => {
      const before = counted.queries();
      const res = await post(countedUrl, apiKey, NESTED, { first });
      expect(res.errors).toBeUndefined();
      const nodes = res.data!.editions.edges.map((e: { node: { contractAddress: string; galleryUrl: string } }) => e.node);
      expect(nodes).toHaveLength(first);
      expect(nodes.every((n: { contractAddress: string; galleryUrl: string }) => n.contractAddress && n.galleryUrl.includes(n.contractAddress))).toBe(true);
      return counted.queries() - before;
    };
    await cost(10);
    expect(await cost(100)).toBe(await cost(10));
    // Operations by global id, each with its edition and its transactions: one query per kind, whatever their number.
    const OPS = `query($ids: [ID!]!) { nodes(ids: $ids) { ... on EditionOperation { id txHashes edition { id contractAddress } } } }`;
    const opsCost = async (n: number) => {
      const ids = ops.slice(0, n).map((o) => Buffer.from(`EditionOperation:${o.id}`).toString("base64"));
      const before = counted.queries();
      const res = await post(countedUrl, apiKey, OPS, { ids });
      expect(res.errors).toBeUndefined();
      expect(res.data!.nodes.map((o: { id: string; txHashes: string[] }) => [o.id, o.txHashes.length])).toEqual(ops.slice(0, n).map((o) => [o.id, 2]));
      return counted.queries() - before;
    };
    await opsCost(5);
    expect(await opsCost(100)).toBe(await opsCost(5));
  });

  it("Certificate.history: ISSUED then REVOKED, each with its institution, transaction and block", async () => {
    const holder = Wallet.createRandom().address;
    const issued = await issueCertificate(stack, { recipient: holder, title: "History of Science" });
    await revokeCertificate(stack, issued.id);
    // The revocation's block is the one its transaction was mined in, recorded by the worker's transaction monitor.
    const res = await waitFor(
      () =>
        post(
          url,
          apiKey,
          `query($id: ID!) { certificate(id: $id) { txHash blockNumber revokedTxHash history { kind at txHash blockNumber apiKeyName revocationReason institution { id } } } }`,
          { id: issued.id },
        ),
      (r) => !!r.errors || (r.data?.certificate?.history as { blockNumber: number | null }[] | undefined)?.at(-1)?.blockNumber != null,
    );
    expect(res.errors).toBeUndefined();
    const c = res.data!.certificate;
    expect(c.history.map((e: any) => e.kind)).toEqual(["ISSUED", "REVOKED"]);
    const [issue, revoke] = c.history;
    expect(issue).toMatchObject({ txHash: c.txHash, blockNumber: c.blockNumber, institution: { id: stack.devInfo.institutionId }, revocationReason: null });
    expect(revoke).toMatchObject({ txHash: c.revokedTxHash, institution: { id: stack.devInfo.institutionId }, revocationReason: "PRIVILEGE_WITHDRAWN" });
    expect(revoke.blockNumber).toBeGreaterThan(issue.blockNumber);
    expect(Date.parse(revoke.at)).toBeGreaterThanOrEqual(Date.parse(issue.at) - 60_000);
    const receipt = await stack.provider.getTransactionReceipt(revoke.txHash);
    expect(receipt?.blockNumber).toBe(revoke.blockNumber);
  }, 60_000);
});
