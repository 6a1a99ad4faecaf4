import { describe, expect, it } from 'vitest';

import { CHARACTER_CLASSES, generatePassword } from '../../engine/vault/index.js';

describe('generatePassword', () => {
  it('includes every required class', () => {
    for (let round = 0; round < 200; round += 1) {
      const password = generatePassword({ length: 4, require: ['uppercase', 'lowercase', 'digits', 'special'] });
      expect(password).toHaveLength(4);
      for (const characters of Object.values(CHARACTER_CLASSES)) {
        expect([...password].some((character) => characters.includes(character)), password).toBe(true);
      }
    }
  });

  it('uses only allowed characters', () => {
    const password = generatePassword({ length: 500, exclude: ['special', 'uppercase'] });
    expect(password).toMatch(/^[a-z0-9]{500}$/);
  });

  it('defaults to 32 characters and differs per call', () => {
    const first = generatePassword();
    expect(first).toHaveLength(32);
    expect(generatePassword()).not.toBe(first);
  });

  it('spreads required characters over all positions', () => {
    // Without the shuffle, the required digit would always be first; passwords that happen to
    // contain exactly one digit show where it went.
    const positions = new Set<number>();
    for (let round = 0; round < 200; round += 1) {
      const password = generatePassword({ length: 8, require: ['digits'], exclude: ['uppercase', 'special'] });
      if (password.replace(/[0-9]/g, '').length === 7) positions.add(password.search(/[0-9]/));
    }
    expect(positions.size).toBeGreaterThan(4);
  });

  it('rejects impossible requests', () => {
    expect(() => generatePassword({ length: 3, require: ['uppercase', 'lowercase', 'digits', 'special'] })).toThrow(/length 3/);
    expect(() => generatePassword({ require: ['digits'], exclude: ['digits'] })).toThrow(/both required and excluded/);
    expect(() => generatePassword({ exclude: ['uppercase', 'lowercase', 'digits', 'special'] })).toThrow(/every character class/);
    expect(() => generatePassword({ require: ['emoji' as never] })).toThrow(/unknown character class/);
    expect(() => generatePassword({ length: 0 })).toThrow(/length 0/);
  });
});
