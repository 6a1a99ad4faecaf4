import { parse } from 'pg-connection-string';
import { describe, expect, it } from 'vitest';
import { clientOptions } from '../../providers/postgres/client.js';

describe('clientOptions', () => {
  it('keeps the target password', () => {
    const password = 'p@ss:w/rd?#% é';
    const options = clientOptions('postgres://admin@db.example:5432/app?sslmode=require', password);
    const parsed = parse(options.connectionString);
    expect(parsed.password).toBe(password);
    expect(parsed.user).toBe('admin');
    expect(parsed.database).toBe('app');
    expect(parsed.host).toBe('db.example');
  });

  it('leaves a url without password alone', () => {
    expect(clientOptions('postgres://admin@db.example/app').connectionString).toBe('postgres://admin@db.example/app');
  });
});
