/**
 * English messages, in ICU MessageFormat: placeholders `{name}`, plurals `{count, plural, one {…} other {…}}`,
 * and markup only as tags (`<strong>…</strong>`) so translators move it with the words. A sentence is one message:
 * never assemble a sentence from several.
 */
export const en = {
  "layout.skip": "Skip to content",
  "layout.language": "Language",
  "layout.brand": "Hallmark",

  "gallery.issuer.proven.headline": "Issued by <strong>{name}</strong>",
  "gallery.issuer.proven.detail": "A registered institution on this platform; its domain {domain} was proven by DNS on {date}.",
  "gallery.issuer.unproven.headline": "Issued by <strong>{name}</strong>, registered on this platform",
  "gallery.issuer.unproven.detail": "Its identity ({identity}) is not proven: no domain proof has been confirmed.",
  "gallery.issuer.suspended.headline": "<strong>{name}</strong>, which issued this edition, is suspended",
  "gallery.issuer.suspended.detail": "The platform's issuer registry lists the institution as suspended: it does not vouch for this edition now.",
  "gallery.issuer.unregistered.headline": "Not from a registered institution",
  "gallery.issuer.unregistered.detail": "No institution in this platform's issuer registry stands behind this contract. Anyone can create a contract on the chain: treat this edition as unofficial.",
  "gallery.issuer.unknown.headline": "The issuing institution could not be checked",
  "gallery.issuer.unknown.detail": "The platform's issuer registry could not be read just now. Try again later before relying on this edition.",
  "holder.mail.subject": "{code} is your Hallmark sign-in code",
  "holder.mail.text": "Your sign-in code for your certificates and collectibles:\n\n    {code}\n\nEnter it on {url} within {minutes, plural, one {# minute} other {# minutes}}. It works once.\n\nIf you did not ask for it, ignore this e-mail: nobody can sign in without the code.",
  "holder.email.heading": "Sign in with your e-mail address",
  "holder.email.intro": "Use the e-mail address your school, hospital or museum has for you. We send you a code: no wallet is needed.",
  "holder.email.label": "E-mail address",
  "holder.email.send": "Send me a code",
  "holder.email.codeLabel": "Code from the e-mail",
  "holder.email.signIn": "Sign in",
  "holder.email.sent": "If this address has certificates or collectibles, a code is on its way. It works for 10 minutes.",
  "holder.email.walletHeading": "Or sign in with a wallet",
  "holder.claim.heading": "Move everything to a wallet of your own",
  "holder.claim.intro": "Your certificates are held for you until you have a wallet. With one, claim them all at once: your wallet signs a message (free, no transaction) and every institution's certificates move to it.",
  "holder.claim.button": "Claim to my wallet",
  "holder.claim.noWallet": "No Ethereum wallet was found in this browser. Install or unlock one, then try again.",
  "holder.claim.waiting": "Waiting for your wallet…",
  "holder.claim.done": "Claimed: {count, plural, one {# certificate} other {# certificates}} and {items, plural, one {# collectible} other {# collectibles}} are moving to your wallet.",
  "holder.claim.failed": "The claim did not complete:",
  "holder.item.addToWallet": "Add to wallet",
  "holder.item.share": "Share: <a>link to this certificate</a>",
  "holder.offer.title": "Add to your wallet",
  "holder.offer.heading": "Add “{title}” to your wallet",
  "holder.offer.intro": "Scan this code with a wallet app that supports OpenID for Verifiable Credential Issuance, or open the link on the device your wallet is on. It works once, until {expires}.",
  "holder.offer.qrLabel": "Scan with your wallet",
  "holder.offer.open": "Open in my wallet",
  "holder.offer.txCode": "Your wallet will ask for this code: <strong>{code}</strong>",
  "holder.offer.back": "Back to your certificates",
} as const satisfies Record<string, string>;

export type MessageKey = keyof typeof en;
export type Catalogue = Record<MessageKey, string>;
