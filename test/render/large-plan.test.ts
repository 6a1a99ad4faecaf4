import { describe, expect, it } from 'vitest';
import type { Change } from '../../engine/diff/changes.js';
import { grantAddress } from '../../engine/diff/addresses.js';
import type { Grant } from '../../engine/model/types.js';
import { renderText } from '../../engine/render/text.js';
import { plan, target } from './plans.js';

/** Enough changes that spreading their lines into one push() would overflow the call stack. */
const CHANGES = 200_000;

describe('text plan of a large estate', () => {
  it('renders 200,000 changes', () => {
    const changes = Array.from({ length: CHANGES }, (_, index): Change => {
      const grant: Grant = {
        database: 'app',
        grantee: `user_${index}`,
        privilege: 'SELECT',
        object: { kind: 'table', schema: 'public', name: 'orders' },
        grantOption: false,
      };
      return { kind: 'grant', address: grantAddress('prod', grant, 'grant'), database: 'app', destructive: false, grant };
    });

    const text = renderText(plan([target('prod', changes)]), { color: false, showSql: false });

    expect(text).toContain('prod/app: grant SELECT on table public.orders to user_0');
    expect(text).toContain(`prod/app: grant SELECT on table public.orders to user_${CHANGES - 1}`);
  });
});
