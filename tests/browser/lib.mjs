// What the browser test (console.test.mjs) and the console benchmark (bench/console_load.mjs)
// share: how they start Debian's Chromium, and receipt photos as real PNG files.
import {deflateSync, crc32} from 'node:zlib';

export const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                             '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// A width x height RGB PNG (8 bits a channel, no filter) whose pixel at (x, y) is pixel(x, y): [r, g, b].
export function rgbPng(width, height, pixel) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const offset = y * (width * 3 + 1) + 1 + x * 3;
      const [r, g, b] = pixel(x, y);
      raw[offset] = r & 255;
      raw[offset + 1] = g & 255;
      raw[offset + 2] = b & 255;
    }
  }
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; header[9] = 2;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header),
                        chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
