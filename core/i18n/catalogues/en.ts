/**
 * English messages, in ICU MessageFormat: placeholders `{name}`, plurals `{count, plural, one {…} other {…}}`,
 * and markup only as tags (`<strong>…</strong>`) so translators move it with the words. A sentence is one message:
 * never assemble a sentence from several.
 */
export const en = {
  "layout.skip": "Skip to content",
  "layout.language": "Language",
  "layout.brand": "Hallmark",
} as const satisfies Record<string, string>;

export type MessageKey = keyof typeof en;
export type Catalogue = Record<MessageKey, string>;
