import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { Settings } from '../../src/store/settings.js';

describe('Settings', () => {
  it('stores JSON values by key, overwrites, and removes with undefined', () => {
    const db = openDatabase({ path: ':memory:', synchronous: 'normal' });
    const s = new Settings(db);
    expect(s.get('mode')).toBeUndefined();
    s.set('mode', 'lockdown');
    s.set('cursor', { upTo: 42, at: [1, 2] });
    s.set('flag', false);
    expect(s.get<string>('mode')).toBe('lockdown');
    expect(s.get('cursor')).toEqual({ upTo: 42, at: [1, 2] });
    expect(s.get('flag')).toBe(false);
    s.set('mode', 'normal');
    expect(s.get('mode')).toBe('normal');
    s.set('mode', undefined);
    expect(s.get('mode')).toBeUndefined();
    // Persisted, not cached: a second instance sees the same rows.
    expect(new Settings(db).get('cursor')).toEqual({ upTo: 42, at: [1, 2] });
    db.close();
  });
});
