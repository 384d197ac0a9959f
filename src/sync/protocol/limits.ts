/**
 * Sizes of protocol v1 messages, shared by the gate (what it accepts),
 * gatectl (what it produces) and the config default.
 *
 * The largest legitimate central → gate message is a whitelist chunk that
 * holds one person with the largest photo the schema allows: a chunk is
 * packed up to CHUNK_TARGET_BYTES, but a record larger than that goes alone.
 *   photo (base64)                          4 194 304 bytes (MAX_PHOTO_CHARS)
 *   the person's other fields, escaped      < 4 KiB (id/hostId 128, name 200
 *                                           UTF-16 units: ≤ 800 bytes UTF-8,
 *                                           ≤ 1 400 with quotes escaped twice)
 *   chunk frame, kid, Ed25519 signature     < 1 KiB
 * so every chunk gatectl makes is under 4.2 MB (buildSnapshot checks each
 * one exactly against DEFAULT_MAX_PAYLOAD_BYTES and refuses to publish a
 * larger one). The default limit adds about 1 MiB of margin: 5 MiB. A gate
 * on a 1 GB Pi can afford that (the link's buffer, one copy in the chunk
 * worker); it could not afford the 64 MiB that was the default before, let
 * alone the broker's own 256 MB.
 */

/** The longest `photo` (base64 JPEG) a person record may carry (schemas.ts). */
export const MAX_PHOTO_CHARS = 4 * 1024 * 1024;

/** gatectl packs records into a chunk up to about this many bytes (one larger record goes alone). */
export const CHUNK_TARGET_BYTES = 1024 * 1024;

/** Default `mqtt.maxPayloadBytes`: the largest MQTT payload (signed envelope) a gate accepts. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 5 * 1024 * 1024;

/**
 * What an MQTT 5 PUBLISH adds to its payload: fixed header (≤ 5 bytes),
 * topic (ours are < 200 bytes), packet id, properties (central sends a
 * correlation id). The gate declares Maximum Packet Size = maxPayloadBytes
 * + this, so the broker never forwards a packet whose payload could exceed
 * the limit by more than these few KiB; the payload is checked exactly
 * before anything parses it.
 */
export const PUBLISH_OVERHEAD_BYTES = 4 * 1024;

/** The Maximum Packet Size a gate declares in its CONNECT for a payload limit. */
export function maximumPacketSize(maxPayloadBytes: number): number {
  return maxPayloadBytes + PUBLISH_OVERHEAD_BYTES;
}
