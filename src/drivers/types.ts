/**
 * Hardware seams. Every driver implements one of these interfaces; the
 * controller receives them by injection and knows nothing of onoff, pcsc or
 * serialport. Drivers know nothing of access rules.
 */
import type { EventEmitter } from 'node:events';
import type { Direction, Lifecycle } from '../types.js';

/**
 * One output line (relay, LED, buzzer). `active` means energized/lit/sounding,
 * whatever the wiring polarity: the driver applies `activeLow`.
 */
export interface DigitalOutput extends Lifecycle {
  readonly name: string;
  /** Drive the line. Synchronous: when it returns the write has been issued. */
  set(active: boolean): void;
  /** The last value written (false before the first write). */
  get(): boolean;
}

/** One input line (passage sensor, door contact, exit button, fire alarm, tamper). */
export interface DigitalInput extends Lifecycle {
  readonly name: string;
  /** Current debounced logical state (`activeLow` already applied). */
  get(): boolean;
  /** Debounced transitions; returns a function that removes the listener. */
  onChange(listener: (active: boolean, atMs: number) => void): () => void;
}

/** What a reader saw, framed and parsed but not yet judged. */
export type RawCredential =
  /** Card UID bytes as UPPERCASE hex, no separators ("04A1B2C3"). */
  | { kind: 'card'; uid: string }
  /** An 18-character resident ID number as read (check digit not yet verified). */
  | { kind: 'id'; number: string }
  /** A QR visitor pass token "GP1.<body>.<sig>" as scanned. */
  | { kind: 'pass'; token: string };

export type ReaderType = 'pcsc' | 'serial' | 'sim';

export interface ReaderEventMap {
  /** A credential was presented. `at` is the clock time the bytes arrived. */
  credential: [cred: RawCredential, at: number];
  /** Input that could not be framed/parsed (garbage, over-long line). Never personal data. */
  rejected: [reason: string, at: number];
  /** Connection state changed (reader attached/detached, pcscd up/down, port open/closed). */
  status: [connected: boolean, detail: string];
}

export interface CredentialReader extends Lifecycle, EventEmitter<ReaderEventMap> {
  readonly id: string;
  readonly type: ReaderType;
  readonly direction: Direction;
  readonly connected: boolean;
}

export type OutputName = 'entry' | 'exit' | 'green' | 'red' | 'buzzer';
export type InputName = 'passage' | 'door' | 'exitButton' | 'fireAlarm' | 'tamper';

/** The gate's GPIO as one set (drivers/gpio/index.ts builds it per backend). */
export type GpioBackend = 'cdev' | 'onoff' | 'sim';

export interface GpioSet {
  /** The backend in use, `auto` resolved (set by buildGpio; hand-made sets in benches leave it out). */
  backend?: GpioBackend;
  outputs: Partial<Record<OutputName, DigitalOutput>>;
  inputs: Partial<Record<InputName, DigitalInput>>;
  /** Relays to safe (inactive) state FIRST, then LEDs and buzzer, then inputs. */
  start(): Promise<void>;
  /** Inputs released, then LEDs/buzzer and relays inactive and released. */
  stop(): Promise<void>;
}

/**
 * A resident ID card read at the reception desk (a SAM reader with
 * `use: desk`): the fields a registration needs and nothing more. Address,
 * birth date, nation, sex, authority, the validity start and the photo never
 * leave the driver.
 * Never logged.
 */
export interface DeskIdCard {
  name: string;
  /** 18 characters as on the card (check digit not yet verified). */
  number: string;
  /** The card's last valid day, YYYY-MM-DD, or 'long-term' (长期). */
  validTo: string;
}

export interface DeskReaderEventMap {
  /** A card was placed on the desk reader and read. */
  card: [card: DeskIdCard, at: number];
  /** A card was placed and read, and cannot be used (another document, a field no card can hold): the reason, never card data. */
  refused: [reason: string, at: number];
  rejected: [reason: string, at: number];
  status: [connected: boolean, detail: string];
}

/** The reception desk's ID card reader, as the admin page sees it. */
export interface DeskCardReader extends Lifecycle, EventEmitter<DeskReaderEventMap> {
  readonly id: string;
  readonly connected: boolean;
}
