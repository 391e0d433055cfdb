/** What an image's leading bytes say it is, and how large it is in pixels. */
export interface ImageHeader {
  mediaType?: "image/png" | "image/jpeg" | "image/gif" | "image/webp";
  width?: number;
  height?: number;
}

/**
 * Reads the media type and pixel size from the start of an image. PNG (IHDR), JPEG (the first start-of-frame
 * marker, which may follow large EXIF segments: give it enough bytes) and GIF (logical screen) sizes are read;
 * WebP is recognised but its size is not read. Anything else gives `{}`.
 */
export function readImageHeader(head: Uint8Array): ImageHeader {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) {
    // Signature, then the IHDR chunk first: length (4), "IHDR" (4), width (4, big-endian), height (4).
    if (head.length < 24 || String.fromCharCode(...head.subarray(12, 16)) !== "IHDR") return { mediaType: "image/png" };
    return { mediaType: "image/png", width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (starts(0xff, 0xd8, 0xff)) return { mediaType: "image/jpeg", ...jpegSize(head, view) };
  if (starts(0x47, 0x49, 0x46, 0x38) && head.length >= 10) {
    return { mediaType: "image/gif", width: view.getUint16(6, true), height: view.getUint16(8, true) };
  }
  if (starts(0x52, 0x49, 0x46, 0x46) && String.fromCharCode(...head.subarray(8, 12)) === "WEBP") return { mediaType: "image/webp" };
  return {};
}

/** SOF0–SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames. */
function jpegSize(head: Uint8Array, view: DataView): { width?: number; height?: number } {
  let i = 2;
  while (i + 3 < head.length) {
    if (head[i] !== 0xff) return {};
    const marker = head[i + 1]!;
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    // Standalone markers carry no length.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return {}; // end of image, or scan data before any frame header
    const length = view.getUint16(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (i + 9 > head.length) return {};
      const height = view.getUint16(i + 5);
      const width = view.getUint16(i + 7);
      return width && height ? { width, height } : {};
    }
    i += 2 + length;
  }
  return {};
}
