import type { Catalogue } from "./en.ts";

/** 简体中文消息（ICU MessageFormat）。每个键都必须在此出现：缺少的键在类型检查和测试中都会失败。 */
export const zhCN: Catalogue = {
  "layout.skip": "跳到正文",
  "layout.language": "语言",
  "layout.brand": "Hallmark",
};
