export { anchoredStatusListIndicesOf, assignAnchoredIndices } from "./anchored-indices.ts";
export { anchoredListVersion, readAnchoredStatusBits } from "./anchored-bits.ts";
export { readStatusBits, type StatusBits } from "./bits.ts";
export { StatusListNotFoundError } from "./errors.ts";
export { drawRange, listLength, statusListIndexOf } from "./indices.ts";
export { StatusListPublisher, STATUS_LIST_TTL_MS, STATUS_LIST_VALIDITY_MS, type PublishedStatusList } from "./publisher.ts";
export { isStatusPurpose, MIN_LIST_LENGTH, statusEntries, statusListUrl, STATUS_PURPOSES, type BitstringStatusListEntry, type StatusPurpose } from "./purposes.ts";
export { encodeStatusBits, signStatusList } from "./sign.ts";
