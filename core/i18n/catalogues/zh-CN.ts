import type { Catalogue } from "./en.ts";

/** 简体中文消息（ICU MessageFormat）。每个键都必须在此出现：缺少的键在类型检查和测试中都会失败。 */
export const zhCN: Catalogue = {
  "layout.skip": "跳到正文",
  "layout.language": "语言",
  "layout.brand": "Hallmark",

  "gallery.issuer.proven.headline": "由<strong>{name}</strong>发行",
  "gallery.issuer.proven.detail": "本平台登记的机构；其域名 {domain} 已于{date}通过 DNS 验证。",
  "gallery.issuer.unproven.headline": "由<strong>{name}</strong>发行（已在本平台登记）",
  "gallery.issuer.unproven.detail": "其身份（{identity}）尚未证明：尚无经确认的域名证明。",
  "gallery.issuer.suspended.headline": "发行本版本的<strong>{name}</strong>已被暂停",
  "gallery.issuer.suspended.detail": "平台的发行机构登记册显示该机构已暂停，目前不为本版本背书。",
  "gallery.issuer.unregistered.headline": "并非来自登记机构",
  "gallery.issuer.unregistered.detail": "本平台发行机构登记册中没有任何机构为此合约背书。任何人都可以在链上创建合约：请将本版本视为非官方。",
  "gallery.issuer.unknown.headline": "暂时无法核验发行机构",
  "gallery.issuer.unknown.detail": "暂时无法读取平台的发行机构登记册。请稍后再试，再决定是否信赖本版本。",
};
