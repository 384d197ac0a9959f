/**
 * What the admin page needs from the rest of the daemon, injected by main.ts.
 * admin/ never imports sync/ (DESIGN.md layering): the registration outbox
 * is a store/ table, and link state arrives as a plain function.
 */
import type { Logger } from '../log.js';
import type { Clock } from '../types.js';
import type { DeskCardReader } from '../drivers/types.js';
import type { GateControl } from '../controller/gate-api.js';
import type { PassBody } from '../credentials/pass.js';
import type { Store } from '../store/index.js';
import type { Credential, Person } from '../store/types.js';
import type { RegistrationOutbox } from '../store/registrations.js';
import type { KdfParams } from './password.js';
import type { LimiterOptions } from './login-limiter.js';

/**
 * DESIGN.md `…/registrations` message: `{id, person, credential,
 * registeredAt, operator}` with the personal data central needs. The only
 * gate → central message that carries names.
 */
export type VisitorRegistration = {
  id: string;
  person: Person & {
    [k: string]: unknown;
    phone: string;
    organisation: string;
    purpose: string;
    host: string;
    /** Masked document number and its type; the clear number never leaves the form. */
    idDocument: { type: string; masked: string; /** Read from the ID card at the desk. */ validTo?: string };
    items?: string;
    vehiclePlate?: string;
    specialNeeds?: string;
    needsReview?: boolean;
  };
  credential: Credential;
  /** ISO 8601. */
  registeredAt: string;
  operator: string;
};

/** The store's RegistrationOutbox (src/store/registrations.ts) as admin/ uses it: pass the outbox itself. */
export type RegistrationSink = Pick<RegistrationOutbox, 'add'>;

/** Signs a visitor pass with the gate's own Ed25519 key (signPass in credentials/pass.ts). */
export interface PassSigner {
  sign(body: PassBody): string;
}

/** Link to central, as sync/ reports it (wired by main.ts; absent = shown as unknown). */
export interface SyncStatus {
  connected: boolean;
  pending: number;
  oldestSeq?: number;
}

export interface AdminDeps {
  gate: GateControl;
  store: Store;
  registrations: RegistrationSink;
  passSigner: PassSigner;
  idHashKey: Buffer;
  /** The reception desk's ID card reader (`readers[].use: desk`); absent = no "Read ID card". */
  deskReader?: DeskCardReader;
  /** How long "Read ID card" waits for a card (default 20 s). */
  deskWaitMs?: number;
  /** Photos live in `${dataDir}/photos/`. */
  dataDir: string;
  log: Logger;
  clock: Clock;
  /** MQTT link and outbox backlog; absent until sync is wired. */
  syncStatus?: () => SyncStatus;
  /** Whether the system clock is NTP-synchronized; default reads systemd-timesyncd's flag file. */
  clockSynced?: () => boolean | undefined;
  /** Where index.html and friends are; default src/admin/public (found from dist/ too). */
  publicDir?: string;
  /** Password KDF parameters (default N=2^15, r=8, p=1). */
  kdf?: KdfParams;
  limits?: Partial<LimiterOptions>;
  /** Sliding session lifetime (default 12 h). */
  sessionTtlMs?: number;
  /** Largest photo upload accepted (default 10 MiB). */
  maxPhotoBytes?: number;
  /** Serve the page over TLS with this certificate and key (PEM); session cookies are then Secure. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Visitor windows: start at most this many days ahead, last at most this many days (admin.maxAdvanceDays / maxVisitDays). */
  visitLimits?: { maxAdvanceDays: number; maxVisitDays: number };
}
