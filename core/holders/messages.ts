/**
 * The words a holder without a wallet reads: the sign-in e-mail and the sign-in page. Kept together, in English,
 * until the message catalogues take them.
 */
export const HOLDER_TEXT = {
  codeMailSubject: (code: string) => `${code} is your Hallmark sign-in code`,
  codeMailText: (code: string, minutes: number, url: string) =>
    [
      "Your sign-in code for your certificates and collectibles:",
      "",
      `    ${code}`,
      "",
      `Enter it on ${url} within ${minutes} minutes. It works once.`,
      "",
      "If you did not ask for it, ignore this e-mail: nobody can sign in without the code.",
    ].join("\n"),
  emailHeading: "Sign in with your e-mail address",
  emailIntro: "Use the e-mail address your school, hospital or museum has for you. We send you a code; no wallet is needed.",
  emailLabel: "E-mail address",
  sendCode: "Send me a code",
  codeLabel: "Code from the e-mail",
  signIn: "Sign in",
  codeSent: "If this address has certificates or collectibles, a code is on its way. It is valid for 10 minutes.",
  walletHeading: "Or sign in with a wallet",
} as const;
