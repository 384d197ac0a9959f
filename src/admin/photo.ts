/**
 * A visitor photo from the tablet camera or an upload, made safe to keep:
 * oriented by its EXIF (autoOrient before resize, or portrait phone photos
 * come out sideways), at most 480 px, re-encoded as JPEG. sharp writes no
 * metadata unless asked (withMetadata/keepExif are never called), so EXIF,
 * GPS, ICC and XMP are all gone.
 */
import sharp from 'sharp';
import { AdminError } from './errors.js';

export const PHOTO_MAX_PX = 480;
/** Formats a camera or a phone gallery produces; SVG/PDF and the like are refused. */
const ACCEPTED = new Set(['jpeg', 'png', 'webp', 'heif', 'avif', 'gif', 'tiff']);
/** Decompression-bomb guard for a Pi: 50 megapixels is more than any tablet camera. */
const MAX_INPUT_PIXELS = 50_000_000;

export async function processPhoto(input: Buffer): Promise<Buffer> {
  let format: string | undefined;
  try {
    format = (await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS }).metadata()).format;
  } catch (cause) {
    throw new AdminError('PHOTO_NOT_IMAGE', 400, 'the photo is not a readable image', { cause });
  }
  if (!format || !ACCEPTED.has(format)) {
    throw new AdminError('PHOTO_NOT_IMAGE', 400, `photo format ${format ?? 'unknown'} is not accepted`);
  }
  try {
    return await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' })
      .autoOrient()
      .resize(PHOTO_MAX_PX, PHOTO_MAX_PX, { fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: 82 })
      .toBuffer();
  } catch (cause) {
    throw new AdminError('PHOTO_NOT_IMAGE', 400, 'the photo could not be decoded', { cause });
  }
}
