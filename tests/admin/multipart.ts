/** A multipart/form-data body for inject, like the page's FormData sends. */
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';

export function multipart(
  fields: Record<string, string>,
  file?: { name?: string; filename?: string; type?: string; data: Buffer },
): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----gc${randomBytes(8).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  }
  if (file) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\ncontent-disposition: form-data; name="${file.name ?? 'photo'}"; filename="${file.filename ?? 'photo.jpg'}"\r\n` +
          `content-type: ${file.type ?? 'image/jpeg'}\r\n\r\n`,
      ),
      file.data,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/**
 * A 600×400 JPEG as a phone takes it: EXIF orientation 6 (rotate 90°), an
 * owner and a description in IFD0, GPS coordinates in the GPS IFD. Only a
 * test makes such a file; the product never writes metadata.
 */
export async function phoneJpeg(): Promise<Buffer> {
  return sharp({ create: { width: 600, height: 400, channels: 3, background: '#3a6' } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .withExifMerge({
      IFD0: { Copyright: 'secret-owner', ImageDescription: 'taken at home' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '39/1 54/1 27/1', GPSLongitudeRef: 'E', GPSLongitude: '116/1 23/1 17/1' },
    })
    .toBuffer();
}

export function visitorFields(over: Record<string, string> = {}): Record<string, string> {
  const now = Date.now();
  return {
    name: 'Wang Fang',
    idType: 'resident',
    idNumber: '11010519491231002X',
    phone: '+86 138 0013 8000',
    organisation: 'Acme Supplies',
    purpose: 'Deliver samples',
    host: 'Zhang San',
    validFrom: new Date(now - 60_000).toISOString(),
    validTo: new Date(now + 4 * 3600_000).toISOString(),
    credential: 'id',
    ...over,
  };
}
