/**
 * The resident ID card reader protocol spoken by the security-module (SAM)
 * readers GA 467 describes (身份证阅读器 / 身份证阅读模块): commands, status
 * codes and the sizes the frame codec and the driver rely on. Sources, cited
 * in docs/sam-reader.md: the module's UART protocol as published at
 * blog.csdn.net/zhangbijun1230/article/details/85242964 and softs.im
 * (身份证阅读器通信协议), and a public driver (Yangyuanxin/BearPi,
 * ZKT_SDK/IDReader.[ch]).
 */

/** Every frame, both directions, starts with these five bytes. */
export const PREAMBLE = Buffer.from([0xaa, 0xaa, 0xaa, 0x96, 0x69]);

/** Command byte and parameter byte (host → module). */
export const CMD = {
  resetSam: [0x10, 0xff],
  samStatus: [0x11, 0xff],
  samId: [0x12, 0xff],
  find: [0x20, 0x01],
  select: [0x20, 0x02],
  readBase: [0x30, 0x01],
} as const satisfies Record<string, readonly [number, number]>;
export type CommandName = keyof typeof CMD;

/** SW3, the module's own status byte (SW1 SW2 echo the card's APDU status, 00 00 when none). */
export const SW3 = {
  ok: 0x90,
  found: 0x9f,
  badChecksum: 0x10,
  badLength: 0x11,
  badCommand: 0x21,
  unauthorizedOp: 0x23,
  unknownError: 0x24,
  cardAuthFailed: 0x31,
  samAuthFailed: 0x32,
  verifyFailed: 0x33,
  wrongCard: 0x40,
  readFailed: 0x41,
  randomFailed: 0x47,
  selfTestFailed: 0x60,
  notAuthorized: 0x66,
  noCard: 0x80,
  selectFailed: 0x81,
  noContent: 0x91,
} as const;

const SW3_TEXT: Record<number, string> = {
  [SW3.ok]: 'ok',
  [SW3.found]: 'card found',
  [SW3.badChecksum]: 'module saw a bad checksum',
  [SW3.badLength]: 'module saw a bad length',
  [SW3.badCommand]: 'module refused the command',
  [SW3.unauthorizedOp]: 'operation not allowed',
  [SW3.unknownError]: 'module error',
  [SW3.cardAuthFailed]: 'card failed to authenticate the module',
  [SW3.samAuthFailed]: 'module failed to authenticate the card',
  [SW3.verifyFailed]: 'data verification failed',
  [SW3.wrongCard]: 'not a resident ID card',
  [SW3.readFailed]: 'card read failed',
  [SW3.randomFailed]: 'random number failed',
  [SW3.selfTestFailed]: 'module self-test failed',
  [SW3.notAuthorized]: 'module not authorized',
  [SW3.noCard]: 'no card',
  [SW3.selectFailed]: 'card select failed',
  [SW3.noContent]: 'no such content on the card',
};

/** Words for a status byte; never carries card data. */
export function describeSw3(sw3: number): string {
  return SW3_TEXT[sw3] ?? `unknown status 0x${sw3.toString(16).padStart(2, '0')}`;
}

/** The base information answer's data: text length, photo length (2 bytes each, big-endian), text, photo. */
export const BASE_TEXT_BYTES = 256;
export const BASE_PHOTO_BYTES = 1024;

/** Length field bounds for an answer: SW1..SW3 and the checksum at least; read base with fingerprint data is the largest known (~2.3 kB). */
export const MIN_ANSWER_LENGTH = 4;
export const MAX_FRAME_LENGTH = 4096;
/** A command frame: CMD, Para and the checksum at least. */
export const MIN_COMMAND_LENGTH = 3;

/** Bits on the wire per byte at 8N1: start bit, 8 data bits, stop bit. */
export const BITS_PER_BYTE = 10;

/** Milliseconds `bytes` take on the wire at `baudRate` (8N1). */
export function wireMs(bytes: number, baudRate: number): number {
  return (bytes * BITS_PER_BYTE * 1000) / baudRate;
}
