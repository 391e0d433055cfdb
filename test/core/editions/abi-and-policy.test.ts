import { readFileSync } from "node:fs";
import { Interface } from "ethers";
import { describe, expect, it } from "vitest";
import { loadArtifact } from "../../../core/chain/artifacts.ts";
import { collectibleEditionsInterface } from "../../../core/editions/abi.ts";
import {
  ON_CHAIN_POLICIES,
  onChainPolicy,
  policyIndex,
  policyNamed,
  policyShownAs,
  TRANSFER_POLICIES,
} from "../../../core/editions/transfer-policy.ts";

/** The written-out ABI is what the worker, the gallery and the reconciler call and decode with: it must be the contract's. */
describe("the editions ABI", () => {
  const written = collectibleEditionsInterface();
  const built = new Interface(loadArtifact("CollectibleEditions").abi);

  it("names every function and event as the built contract declares it (same selectors and topics)", () => {
    written.forEachFunction((fn) => expect(built.getFunction(fn.selector)?.format("full"), fn.format()).toBe(fn.format("full")));
    written.forEachEvent((ev) => expect(built.getEvent(ev.topicHash)?.format("full"), ev.format()).toBe(ev.format("full")));
  });

  it("knows every custom error the contract can revert with, so a refusal is quoted by name", () => {
    const errors = (iface: Interface) => {
      const names: string[] = [];
      iface.forEachError((e) => names.push(e.format()));
      return names.sort();
    };
    expect(errors(written)).toEqual(errors(built));
  });
});

describe("the transfer policy", () => {
  it("lists the contract's TransferPolicy members in its enum order", () => {
    const source = readFileSync(new URL("../../../contracts/interfaces/ICollectibleEditions.sol", import.meta.url), "utf8");
    const members = /enum TransferPolicy \{([^}]*)\}/.exec(source)![1]!.split(",").map((m) => m.trim());
    expect(ON_CHAIN_POLICIES).toEqual(members);
    expect(TRANSFER_POLICIES.map(policyIndex)).toEqual([0, 1, 2]);
    expect(ON_CHAIN_POLICIES.map(policyIndex)).toEqual([0, 1, 2]);
  });

  it("reads the contract's index as its member name, an unknown one as the strictest, and names it as Hallmark does", () => {
    expect([0, 1n, 2].map(onChainPolicy)).toEqual(["Locked", "GiftAfterLockup", "IssuerMediated"]);
    expect(onChainPolicy(7)).toBe("Locked");
    expect(ON_CHAIN_POLICIES.map(policyNamed)).toEqual(["LOCKED", "GIFT_AFTER_LOCKUP", "ISSUER_MEDIATED"]);
  });

  it("tells a page's visitor the same thing whichever name the policy comes by", () => {
    expect(policyShownAs("Locked")).toBe("Items never move: each stays with the person it was given to.");
    for (const [i, policy] of TRANSFER_POLICIES.entries()) expect(policyShownAs(policy)).toBe(policyShownAs(ON_CHAIN_POLICIES[i]!));
  });
});
