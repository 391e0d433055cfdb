import { signingKeyStates, type SigningKeyState } from "../../core/chain/signing-keys.ts";
import { builder } from "../builder.ts";

const SigningKeyRef = builder.objectRef<SigningKeyState>("SigningKey").implement({
  description:
    "A key the workers sign transactions with, as its workers last reported it. A key that cannot pay is left out of rotation (its waiting transactions move to the other keys) until a re-check finds it funded.",
  fields: (t) => ({
    address: t.exposeString("address", { description: "The key's address." }),
    canPay: t.exposeBoolean("canPay", { description: "False when its balance is short of one transaction at current fees, or the node refused one for want of funds." }),
    reason: t.exposeString("reason", { nullable: true, description: "Why it cannot pay, when it cannot." }),
    checkedAt: t.expose("checkedAt", { type: "DateTime", nullable: true, description: "When a worker last checked (at its start, on a refused transaction, or on a re-check)." }),
    inFlight: t.exposeInt("inFlight", { description: "Transactions signed or sent and not yet known to be mined." }),
    nextNonce: t.exposeInt("nextNonce", { description: "The nonce its next transaction will take." }),
  }),
});

builder.queryField("signingKeys", (t) =>
  t.field({
    type: [SigningKeyRef],
    description: "Every signing key a worker has started with on this chain, whether it can pay and what it has in flight (platform operator).",
    authScopes: { operator: true },
    resolve: (_root, _args, ctx) => signingKeyStates(ctx.db, { chainId: ctx.siwe.chainId }),
  }),
);
