import type { ChainFacts, Check } from "../verification/types.ts";
import type { MessageKey, Translator } from "./translator.ts";

/**
 * A check's reason in the reader's language, from what verification exposes as codes: the check's name and result,
 * and the chain's status and revocation reason. Verification's own sentence (English, naming the digests and
 * addresses it compared) stays what the API returns; this is the sentence a person reads beside it.
 */
export function checkReason(t: Translator, check: Check, chain: ChainFacts | undefined): string {
  if (check.name === "status" && check.result === "valid") {
    return t.t("verify.reason.status.valid", { until: chain?.validUntil ? t.date(chain.validUntil) : "none" });
  }
  if (check.name === "status" && check.result === "invalid") {
    switch (chain?.status) {
      case "REVOKED":
        return t.t("verify.reason.status.REVOKED", { reason: t.t(`verify.revocation.${chain.revocationReason ?? "UNSPECIFIED"}`) });
      case "EXPIRED":
        return chain.validUntil ? t.t("verify.reason.status.EXPIRED", { date: t.date(chain.validUntil) }) : t.t("verify.status.EXPIRED");
      case "SUPERSEDED":
      case "SUSPENDED":
      case "UNKNOWN":
        return t.t(`verify.reason.status.${chain.status}`);
      default:
        return t.t("verify.reason.status.invalid");
    }
  }
  return t.t(`verify.reason.${check.name}.${check.result}` as MessageKey);
}
