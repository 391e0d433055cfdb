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
} as const satisfies Record<string, string>;

export type MessageKey = keyof typeof en;
export type Catalogue = Record<MessageKey, string>;
