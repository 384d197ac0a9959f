import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { configSchema, parseConfig } from '../../src/config.js';

const EXAMPLE = join(process.cwd(), 'config', 'config.example.yaml');
const text = readFileSync(EXAMPLE, 'utf8');
const KEY = '0123456789abcdef'.repeat(4);

/** Every key path the schema knows ('readers[].format', 'gpio.relays.entry.pulseMs', ...). */
function schemaPaths(schema: z.ZodType, prefix: string, out: string[]): string[] {
  let s = schema as unknown as { _zod: { def: { type: string; innerType?: unknown; element?: unknown; shape?: Record<string, z.ZodType> } } };
  while (s._zod.def.innerType) s = s._zod.def.innerType as typeof s;
  const def = s._zod.def;
  if (def.type === 'array') return schemaPaths(def.element as z.ZodType, `${prefix}[]`, out);
  if (def.type === 'object' && def.shape) {
    for (const [k, v] of Object.entries(def.shape)) {
      const p = prefix ? `${prefix}.${k}` : k;
      out.push(p);
      schemaPaths(v, p, out);
    }
  }
  return out;
}

/** Key paths present in the parsed example. */
function docPaths(v: unknown, prefix: string, out: Set<string>): Set<string> {
  if (Array.isArray(v)) v.forEach((e) => docPaths(e, `${prefix}[]`, out));
  else if (v && typeof v === 'object') {
    for (const [k, c] of Object.entries(v)) {
      const p = prefix ? `${prefix}.${k}` : k;
      out.add(p);
      docPaths(c, p, out);
    }
  }
  return out;
}

describe('config/config.example.yaml', () => {
  it('is a valid config once the installer has put a real idHashKey in', () => {
    const cfg = parseConfig(parse(text.replace('REPLACE_WITH_64_HEX_CHARACTERS', KEY)), EXAMPLE);
    expect(cfg.gpio.backend).toBe('auto');
    expect(cfg.readers.map((r) => r.type)).toEqual(['pcsc', 'serial']);
  });

  it('refuses to run with the placeholder key, naming the key', () => {
    expect(() => parseConfig(parse(text), EXAMPLE)).toThrow(/privacy\.idHashKey: expected at least 16 bytes as hex/);
  });

  it('shows every key of the schema (sim-only trace as a comment)', () => {
    const present = docPaths(parse(text), '', new Set());
    const missing = schemaPaths(configSchema, '', []).filter(
      (p) => !present.has(p) && !new RegExp(`^\\s*# ${p.split('.').at(-1)!.replace('[]', '')}:`, 'm').test(text),
    );
    expect(missing).toEqual([]);
  });

  it('carries the Pi wiring defaults', () => {
    const g = parseConfig(parse(text.replace('REPLACE_WITH_64_HEX_CHARACTERS', KEY))).gpio;
    expect({
      entry: g.relays.entry?.line,
      exit: g.relays.exit?.line,
      green: g.leds.green?.line,
      red: g.leds.red?.line,
      buzzer: g.buzzer?.line,
      passage: g.inputs.passage?.line,
      door: g.inputs.door?.line,
      exitButton: g.inputs.exitButton?.line,
      fireAlarm: [g.inputs.fireAlarm?.line, g.inputs.fireAlarm?.activeLow],
      tamper: g.inputs.tamper?.line,
    }).toEqual({ entry: 17, exit: 27, green: 5, red: 6, buzzer: 13, passage: 22, door: 23, exitButton: 25, fireAlarm: [24, true], tamper: 26 });
  });
});
