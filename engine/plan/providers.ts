import type { Engine } from '../config/types.js';
import type { Provider } from '../provider.js';

/** Loads the provider of an engine on first use, so commands that need none start fast. */
export async function providerFor(engine: Engine): Promise<Provider> {
  switch (engine) {
    case 'postgres':
      return (await import('../../providers/postgres/index.js')).postgresProvider;
    default:
      // TODO: the MySQL/MariaDB and MongoDB providers are not built yet.
      throw new Error(`engine ${engine} is not supported yet; only postgres targets can be planned`);
  }
}

/** Removes the password from a connection url so it can be shown and stored. */
export function redactUrl(url: string): string {
  if (url.startsWith('pglite://')) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}
