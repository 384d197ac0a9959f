/**
 * Personal data of visitors registered on site (DESIGN.md "What the
 * reception rules ask a registration to hold"). The identity document is
 * kept only masked and as an HMAC; the photo is a file name under the
 * photos directory. Rows are deleted by the retention purge.
 */
import type Database from 'better-sqlite3';

export type IdDocumentType = 'resident' | 'passport' | 'other';
export type ReviewState = 'none' | 'pending' | 'approved';

export interface VisitorRecord {
  personId: string;
  name: string;
  idType: IdDocumentType;
  /** Display form, e.g. 1101**********123X; never the clear number. */
  idMasked: string;
  /** hex HMAC-SHA256(idHashKey, number): the `id:` credential key without its prefix. */
  idKey: string;
  /** The ID card's last valid day (YYYY-MM-DD or 'long-term') when the card was read at the desk. */
  idValidTo?: string;
  phone: string;
  organisation: string;
  purpose: string;
  host: string;
  hostId?: string;
  validFrom: number;
  validTo: number;
  items?: string;
  vehiclePlate?: string;
  specialNeeds?: string;
  escort: boolean;
  review: ReviewState;
  credentialKey: string;
  passToken?: string;
  photoFile?: string;
  registeredAt: number;
  operator: string;
  approvedBy?: string;
  approvedAt?: number;
}

interface Row {
  person_id: string;
  name: string;
  id_type: IdDocumentType;
  id_masked: string;
  id_key: string;
  id_valid_to: string | null;
  phone: string;
  organisation: string;
  purpose: string;
  host: string;
  host_id: string | null;
  valid_from: number;
  valid_to: number;
  items: string | null;
  vehicle_plate: string | null;
  special_needs: string | null;
  escort: number;
  review: ReviewState;
  credential_key: string;
  pass_token: string | null;
  photo_file: string | null;
  registered_at: number;
  operator: string;
  approved_by: string | null;
  approved_at: number | null;
}

export class VisitorStore {
  private readonly q;

  constructor(private readonly db: Database.Database) {
    this.q = {
      insert: db.prepare(
        `INSERT INTO visitors (person_id, name, id_type, id_masked, id_key, id_valid_to, phone, organisation, purpose,
           host, host_id, valid_from, valid_to, items, vehicle_plate, special_needs, escort, review,
           credential_key, pass_token, photo_file, registered_at, operator)
         VALUES (@person_id, @name, @id_type, @id_masked, @id_key, @id_valid_to, @phone, @organisation, @purpose,
           @host, @host_id, @valid_from, @valid_to, @items, @vehicle_plate, @special_needs, @escort, @review,
           @credential_key, @pass_token, @photo_file, @registered_at, @operator)`,
      ),
      get: db.prepare<[string], Row>('SELECT * FROM visitors WHERE person_id = ?'),
      pending: db.prepare<[], Row>("SELECT * FROM visitors WHERE review = 'pending' ORDER BY registered_at"),
      approve: db.prepare(
        "UPDATE visitors SET review = 'approved', approved_by = ?, approved_at = ? WHERE person_id = ? AND review = 'pending'",
      ),
      ended: db.prepare<[number, number], Row>(
        'SELECT * FROM visitors WHERE valid_to < ? ORDER BY valid_to LIMIT +?',
      ),
      remove: db.prepare('DELETE FROM visitors WHERE person_id = ?'),
      activeByIdKey: db.prepare<[string, number], { person_id: string }>(
        'SELECT person_id FROM visitors WHERE id_key = ? AND valid_to > ? LIMIT 1',
      ),
    };
  }

  insert(v: VisitorRecord): void {
    this.q.insert.run({
      person_id: v.personId,
      name: v.name,
      id_type: v.idType,
      id_masked: v.idMasked,
      id_key: v.idKey,
      id_valid_to: v.idValidTo ?? null,
      phone: v.phone,
      organisation: v.organisation,
      purpose: v.purpose,
      host: v.host,
      host_id: v.hostId ?? null,
      valid_from: v.validFrom,
      valid_to: v.validTo,
      items: v.items ?? null,
      vehicle_plate: v.vehiclePlate ?? null,
      special_needs: v.specialNeeds ?? null,
      escort: v.escort ? 1 : 0,
      review: v.review,
      credential_key: v.credentialKey,
      pass_token: v.passToken ?? null,
      photo_file: v.photoFile ?? null,
      registered_at: v.registeredAt,
      operator: v.operator,
    });
  }

  get(personId: string): VisitorRecord | undefined {
    const r = this.q.get.get(personId);
    return r ? toRecord(r) : undefined;
  }

  /** Registrations waiting for an admin's security review. */
  pending(): VisitorRecord[] {
    return this.q.pending.all().map(toRecord);
  }

  approve(personId: string, operator: string, nowMs: number): boolean {
    return this.q.approve.run(operator, nowMs, personId).changes === 1;
  }

  /** A visitor whose visit window has not ended and who holds this document. */
  activeWithIdKey(idKey: string, nowMs: number): string | undefined {
    return this.q.activeByIdKey.get(idKey, nowMs)?.person_id;
  }

  /** Visitors whose window ended before `cutoffMs` (oldest first, at most `limit`). */
  endedBefore(cutoffMs: number, limit = 500): VisitorRecord[] {
    return this.q.ended.all(cutoffMs, limit).map(toRecord);
  }

  remove(personId: string): boolean {
    return this.q.remove.run(personId).changes === 1;
  }
}

function toRecord(r: Row): VisitorRecord {
  const v: VisitorRecord = {
    personId: r.person_id,
    name: r.name,
    idType: r.id_type,
    idMasked: r.id_masked,
    idKey: r.id_key,
    phone: r.phone,
    organisation: r.organisation,
    purpose: r.purpose,
    host: r.host,
    validFrom: r.valid_from,
    validTo: r.valid_to,
    escort: r.escort === 1,
    review: r.review,
    credentialKey: r.credential_key,
    registeredAt: r.registered_at,
    operator: r.operator,
  };
  if (r.id_valid_to !== null && r.id_valid_to !== undefined) v.idValidTo = r.id_valid_to;
  if (r.host_id !== null) v.hostId = r.host_id;
  if (r.items !== null) v.items = r.items;
  if (r.vehicle_plate !== null) v.vehiclePlate = r.vehicle_plate;
  if (r.special_needs !== null) v.specialNeeds = r.special_needs;
  if (r.pass_token !== null) v.passToken = r.pass_token;
  if (r.photo_file !== null) v.photoFile = r.photo_file;
  if (r.approved_by !== null) v.approvedBy = r.approved_by;
  if (r.approved_at !== null) v.approvedAt = r.approved_at;
  return v;
}
