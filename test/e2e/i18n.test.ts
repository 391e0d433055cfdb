import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CATALOGUES } from "../../core/i18n/translator.ts";
import { startTestStack } from "../support/stack.ts";
import { issueCertificate, issuerClient, revokeCertificate, type IssuedCertificate } from "../core/verification/certificates.ts";

const run = promisify(execFile);

/**
 * Every page a person reads answers in Simplified Chinese or English: chosen by `?lang=` (remembered in a cookie),
 * then by Accept-Language; caches are told so (Vary, Content-Language). Content written in several languages is
 * shown in the reader's, falling back to English, and the CLI speaks the language of LANG.
 */
describe("pages and the CLI in Chinese and English", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let base: string;
  let bilingual: IssuedCertificate;
  let frenchAndEnglish: IssuedCertificate;
  let revoked: IssuedCertificate;
  const ZH = { "accept-language": "zh-CN,zh;q=0.9" };
  const page = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, { headers, redirect: "manual" });
    return { res, text: await res.text() };
  };

  beforeAll(async () => {
    stack = await startTestStack();
    base = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
    bilingual = await issueCertificate(stack, {
      recipient: Wallet.createRandom().address,
      title: { "zh-CN": "计算机科学学士", en: "BSc Computer Science" },
      description: { "zh-CN": "以优异成绩毕业。", en: "Graduated with distinction." },
      validUntil: "2031-07-01T00:00:00Z",
    });
    frenchAndEnglish = await issueCertificate(stack, { recipient: Wallet.createRandom().address, title: { fr: "Licence d'informatique", en: "Bachelor of Computing" } });
    revoked = await issueCertificate(stack, { recipient: Wallet.createRandom().address, title: "Plain English title" });
    await revokeCertificate(stack, revoked.id);
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it("answers in Chinese to Accept-Language zh-CN, saying so to the reader and to caches", async () => {
    const { res, text } = await page(`/verify/${bilingual.id}`, ZH);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-language")).toBe("zh-CN");
    expect(res.headers.get("vary")).toMatch(/Accept-Language/i);
    expect(res.headers.get("vary")).toMatch(/Cookie/i);
    expect(res.headers.get("vary")).toMatch(/Accept\b/);
    expect(text).toContain('<html lang="zh-CN">');
    expect(text).toContain("<h1>计算机科学学士</h1>");
    expect(text).toContain("证书有效");
    expect(text).toContain("以优异成绩毕业。");
    expect(text).toContain("有效期至");
    // Dates as Chinese readers write them, through Intl.
    expect(text).toContain("2031年7月1日");
    // The switcher links the same page in English.
    expect(text).toMatch(/<nav class="languages"[^>]*>.*href="\/verify\/[^"]+\?lang=en"/s);
    // Reasons are translated; core's English sentence is kept only as the technical detail.
    expect(text).toContain("证书文件未被篡改");
    expect(text).toMatch(/<details class="detail"><summary>技术细节<\/summary><span lang="en">/);
  });

  it("lets a ?lang=en link override the browser's language, and remembers the choice", async () => {
    const { res, text } = await page(`/verify/${bilingual.id}?lang=en`, ZH);
    expect(res.headers.get("content-language")).toBe("en");
    expect(text).toContain('<html lang="en">');
    expect(text).toContain("<h1>BSc Computer Science</h1>");
    expect(text).toContain("Valid certificate");
    expect(text).toContain("July 1, 2031");
    const cookie = res.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^hallmark_lang=en;/);
    expect(cookie).toMatch(/HttpOnly/i);
    // The next page, without ?lang=, stays English though the browser asks for Chinese.
    const again = await page(`/verify/${bilingual.id}`, { ...ZH, cookie: cookie.split(";")[0]! });
    expect(again.res.headers.get("content-language")).toBe("en");
    expect(again.text).toContain("Valid certificate");
    expect(again.res.headers.get("set-cookie")).toBeNull();
  });

  it("falls back to English when the content is not written in the reader's language, and marks its language", async () => {
    const zh = await page(`/verify/${frenchAndEnglish.id}`, ZH);
    expect(zh.text).toContain('<h1><span lang="en">Bachelor of Computing</span></h1>');
    expect(zh.text).toContain("证书有效");
    const fr = await page(`/verify/${frenchAndEnglish.id}`, { "accept-language": "fr-FR" });
    // A language Hallmark does not speak gets English pages; the content in English too.
    expect(fr.text).toContain("<h1>Bachelor of Computing</h1>");
    // Plain-string content is shown as it was written, in every language.
    const plain = await page(`/verify/${revoked.id}`, ZH);
    expect(plain.text).toContain("<h1>Plain English title</h1>");
    expect(plain.text).toContain("证书无效");
    expect(plain.text).toContain("已撤销（资格被撤回）");
    expect(plain.text).toContain("已被颁发机构撤销（原因：资格被撤回）。");
  });

  it("keeps the language on links between pages, and on the print page", async () => {
    const verify = await page(`/verify/${bilingual.id}?lang=zh-CN`);
    expect(verify.text).toMatch(new RegExp(`href="${base}/certificates/${bilingual.id}/print\\?lang=zh-CN"`));
    const print = await page(`/certificates/${bilingual.id}/print`, ZH);
    expect(print.res.headers.get("content-language")).toBe("zh-CN");
    expect(print.text).toContain('<html lang="zh-CN">');
    expect(print.text).toContain("计算机科学学士");
    expect(print.text).toContain("颁发日期");
    expect(print.text).toContain("Noto Serif CJK SC");
    const english = await page(`/certificates/${bilingual.id}/print?lang=en`);
    expect(english.text).toContain("BSc Computer Science");
    expect(english.text).toContain("valid until July 1, 2031");
    // A revoked certificate's print link goes to its verify page, in the reader's language.
    const gone = await page(`/certificates/${revoked.id}/print?lang=zh-CN`);
    expect(gone.res.status).toBe(303);
    expect(gone.res.headers.get("location")).toMatch(/\/verify\/[^?]+\?lang=zh-CN$/);
  });

  it("serves the lookup, not-found, holder and gallery problem pages in Chinese", async () => {
    const lookup = await page("/verify", ZH);
    expect(lookup.text).toContain("<h1>核验证书</h1>");
    // The upload's script reads its messages from the page, in the reader's language.
    expect(lookup.text).toMatch(/<script type="application\/json" id="upload-messages">[^<]*"fileStates":"您的文件所载内容"/);
    expect(lookup.text).toContain('<input type="hidden" name="lang" value="zh-CN">');
    const missing = await page("/verify/00000000-0000-4000-8000-000000000000", ZH);
    expect(missing.res.status).toBe(404);
    expect(missing.text).toContain("查无此证书");
    const holder = await page("/holder", ZH);
    expect(holder.text).toContain("使用以太坊登录");
    const gallery = await page("/gallery/0x12/1", ZH);
    expect(gallery.res.status).toBe(400);
    expect(gallery.text).toContain("不是有效的展厅地址");
    // JSON answers stay English whatever the reader's language.
    const json = await fetch(`${base}/verify/${revoked.id}`, { headers: { ...ZH, accept: "application/json" } });
    expect(json.headers.get("content-language")).toBeNull();
    expect((await json.json()).checks.find((c: { name: string }) => c.name === "status").reason).toMatch(/^revoked by its issuer/);
  });

  it("leaves no English message of the catalogue on a Chinese page", async () => {
    // Whole English messages without placeholders or markup (what a forgotten translation would show verbatim).
    const zhValues = new Set(Object.values(CATALOGUES["zh-CN"]));
    const sentences = Object.values(CATALOGUES.en).filter((m) => m.length > 12 && !/[{<']/.test(m) && !zhValues.has(m));
    for (const path of [`/verify/${bilingual.id}`, `/verify/${revoked.id}`, "/verify", `/certificates/${bilingual.id}/print`, "/holder"]) {
      const { text } = await page(path, ZH);
      // Core's English reasons sit in their marked detail; nothing else of the English catalogue may show.
      const shown = text.replace(/<details class="detail">.*?<\/details>/gs, "").replace(/<script type="application\/json"[^>]*>.*?<\/script>/gs, "");
      expect(sentences.filter((m) => shown.includes(m)), path).toEqual([]);
    }
  });

  it("shows attribute labels and values written in several languages in the reader's, and refuses one as personal data", async () => {
    const major = { "zh-CN": "计算机科学与技术", en: "Computer Science and Technology" };
    const cert = await issueCertificate(stack, {
      recipient: Wallet.createRandom().address,
      title: "Diploma",
      attributes: [
        { name: "Major", label: { "zh-CN": "专业", en: "Major" }, value: major },
        { name: "Student number", value: "2022-0042" },
      ],
    });
    const zh = (await page(`/verify/${cert.id}`, ZH)).text;
    expect(zh).toMatch(/<dt>专业<\/dt>\s*<dd>计算机科学与技术<\/dd>/);
    expect(zh).toMatch(/<dt>Student number<\/dt>\s*<dd>2022-0042<\/dd>/);
    const en = (await page(`/verify/${cert.id}?lang=en`)).text;
    expect(en).toMatch(/<dt>Major<\/dt>\s*<dd>Computer Science and Technology<\/dd>/);
    const print = (await page(`/certificates/${cert.id}/print`, ZH)).text;
    expect(print).toContain("<div><dt>专业</dt><dd>计算机科学与技术</dd></div>");
    // The API gives the default language's text and every language; wallets' ERC-721 attributes are plain strings.
    const VERIFY = `query ($id: ID!) { verify(id: $id) { certificate { attributes { name value valueLanguages label labelLanguages } } } }`;
    const { verify } = await issuerClient(stack).request<{ verify: { certificate: { attributes: unknown[] } } }>(VERIFY, { id: cert.id });
    expect(verify.certificate.attributes).toEqual([
      { name: "Major", value: "Computer Science and Technology", valueLanguages: major, label: "Major", labelLanguages: { "zh-CN": "专业", en: "Major" } },
      { name: "Student number", value: "2022-0042", valueLanguages: null, label: "Student number", labelLanguages: null },
    ]);
    const document = (await (await fetch(`${base}/ipfs/${cert.metadataCid}`)).json()) as { attributes: { trait_type: string; value: string }[] };
    expect(document.attributes).toContainEqual({ trait_type: "Major", value: "Computer Science and Technology" });
    // A personal value is committed to as one string: a language map cannot be one.
    const ISSUE = `mutation ($input: IssueCertificateInput!) { issueCertificate(input: $input) { __typename ... on Error { code message field } } }`;
    const refused = await issuerClient(stack).request<{ issueCertificate: { code: string; field: string } }>(ISSUE, {
      input: { collectionId: stack.devInfo.collectionId, idempotencyKey: crypto.randomUUID(), recipient: Wallet.createRandom().address, attributes: [{ name: "Major", value: major }], personalAttributes: ["Major"] },
    });
    expect(refused.issueCertificate).toMatchObject({ code: "BAD_USER_INPUT", field: "personalAttributes[0]" });
  });

  it("refuses a malformed language map with a typed error naming the field and tag", async () => {
    const client = issuerClient(stack);
    const ISSUE = `mutation ($input: IssueCertificateInput!) { issueCertificate(input: $input) { __typename ... on Error { code message field } } }`;
    const issue = (title: unknown) =>
      client.request<{ issueCertificate: { __typename: string; code?: string; message?: string; field?: string } }>(ISSUE, {
        input: { collectionId: stack.devInfo.collectionId, idempotencyKey: crypto.randomUUID(), recipient: Wallet.createRandom().address, title },
      });
    expect((await issue({ "not a tag!": "x" })).issueCertificate).toMatchObject({ code: "BAD_USER_INPUT", field: "title.not a tag!" });
    expect((await issue({ en: "" })).issueCertificate).toMatchObject({ code: "BAD_USER_INPUT", field: "title.en", message: "title.en is required" });
    expect((await issue({ en: 42 })).issueCertificate).toMatchObject({ code: "BAD_USER_INPUT", field: "title.en" });
    expect((await issue({ en: "A", EN: "B" })).issueCertificate).toMatchObject({ code: "BAD_USER_INPUT", message: "title gives the language en twice" });
    expect((await issue({ en: "x".repeat(201) })).issueCertificate).toMatchObject({ code: "BAD_USER_INPUT", field: "title.en" });
    await expect(issue(["a list"])).rejects.toThrow(/LocalizedText must be a string or a language map/);
  });

  it("speaks Chinese on the command line with LANG=zh_CN.UTF-8, keeping the lines scripts read in English", async () => {
    const cli = (env: Record<string, string>) =>
      run("node", ["scripts/verify.ts", bilingual.id, "--rpc", stack.devInfo.rpcUrl, "--graphql", stack.devInfo.graphqlUrl, "--data-dir", stack.dataDir], {
        env: { ...process.env, HALLMARK_LANG: "", LC_ALL: "", LC_MESSAGES: "", ...env },
      });
    const zh = await cli({ LANG: "zh_CN.UTF-8" });
    expect(zh.stdout.split("\n")[0]).toBe("计算机科学学士");
    expect(zh.stdout).toContain("颁发机构：Demo University");
    expect(zh.stdout).toMatch(/^✓ integrity +valid /m);
    expect(zh.stdout).toMatch(/^ {2}文件完整性：✓ 通过。证书文件未被篡改/m);
    expect(zh.stdout).toContain("verdict: VALID\n证书有效：");
    const en = await cli({ LANG: "en_US.UTF-8" });
    expect(en.stdout.split("\n")[0]).toBe("BSc Computer Science");
    expect(en.stdout).toContain("issued by Demo University");
    expect(en.stdout).not.toMatch(/[\u4e00-\u9fff]/);
  });

  it("gives `npm run issue`'s help and argument errors in the reader's language, the flags and error prefix as typed", async () => {
    const issue = (args: string[], env: Record<string, string>) =>
      run(process.execPath, ["scripts/issue.ts", ...args], { env: { ...process.env, HALLMARK_LANG: "", LC_ALL: "", LC_MESSAGES: "", ...env } }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    const zhHelp = await issue(["--help"], { LANG: "zh_CN.UTF-8" });
    expect(zhHelp.code).toBe(0);
    expect(zhHelp.stdout).toMatch(/^用法：npm run issue -- \(--csv <file> \| --json <file>\) --collection <id>/);
    expect(zhHelp.stdout).toMatch(/^ {2}--collection <id> +颁发证书所属的证书系列（必填）$/m);
    expect(zhHelp.stdout).toMatch(/^ {2}--chunk <n> +每次请求提交的行数（默认：500）$/m);
    expect(zhHelp.stdout).toContain("退出码：0 全部颁发成功，1 存在被拒或链上失败的行，64 用法错误");
    const enHelp = await issue(["-h"], { LANG: "en_US.UTF-8" });
    expect(enHelp.code).toBe(0);
    expect(enHelp.stdout).toMatch(/^usage: npm run issue -- \(--csv <file> \| --json <file>\) --collection <id>/);
    expect(enHelp.stdout).toMatch(/^ {2}--no-wait +return once the rows are accepted/m);
    expect(enHelp.stdout).not.toMatch(/[\u4e00-\u9fff]/);

    // HALLMARK_LANG wins over LANG; the error prefix stays `issue:` for scripts, the sentence is translated.
    const zhError = await issue(["--csv", "rows.csv", "--collection", "c1", "--chunk", "0"], { HALLMARK_LANG: "zh-CN", LANG: "en_US.UTF-8" });
    expect(zhError.code).toBe(64);
    expect(zhError.stderr).toBe("issue: --chunk 须为 1 至 10,000 之间的整数，而非“0”\n");
    const enError = await issue(["--collection", "c1"], { LANG: "C" });
    expect(enError.code).toBe(64);
    expect(enError.stderr).toBe("issue: give --csv <file> or --json <file>\n");
    const zhMissing = await issue(["--collection", "c1"], { LANG: "zh_CN.UTF-8" });
    expect(zhMissing.stderr).toBe("issue: 请提供 --csv <file> 或 --json <file>\n");
  });
});
