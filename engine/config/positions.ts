/**
 * Line and column of a key path inside one YAML file, computed only when a diagnostic needs one.
 *
 * The index is built from js-yaml's event stream (`parseEvents`), the same parser that produced
 * the values, so positions and values cannot disagree. On a 9 MB file (10,000 roles, 100,000
 * grants) building it took about 1 s against about 16 s for `yaml`'s `parseDocument` on the
 * same shared 2-core machine, so even a large file with one typo reports quickly.
 */
import type { Event } from 'js-yaml';

type JsYaml = typeof import('js-yaml');

/** A key path inside one document: mapping keys are strings, sequence indexes numbers. */
export type KeyPath = readonly (string | number)[];

export interface LineColumn {
  line: number;
  column: number;
}

// Event type ids of js-yaml (EVENT_ID), fixed by its public API.
const DOCUMENT = 1;
const SEQUENCE = 2;
const MAPPING = 3;
const SCALAR = 4;
const ALIAS = 5;
const POP = 6;

// Quoted scalar styles; their valueStart is just after the opening quote.
const SINGLE_QUOTED = 2;
const DOUBLE_QUOTED = 3;

interface MappingChildren {
  kind: 'mapping';
  /** Key text → [key event, value event]; the first occurrence of a key wins. */
  pairs: Map<string, [number, number]>;
}

interface SequenceChildren {
  kind: 'sequence';
  items: number[];
}

export class PositionIndex {
  private readonly source: string;
  private readonly events: Event[];
  private readonly jsYaml: JsYaml;
  /** For a container event, the index of its closing POP; for any other event, itself. */
  private readonly end: Int32Array;
  /** For an alias event, the index of the anchored node it repeats; -1 otherwise. */
  private readonly aliasTarget: Int32Array;
  private readonly lineStarts: number[];
  /** Children of the containers visited so far, so repeated look-ups stay cheap. */
  private readonly children = new Map<number, MappingChildren | SequenceChildren>();

  /** Takes the events of `source` when the caller has parsed it already. */
  constructor(source: string, jsYaml: JsYaml, events: Event[] = jsYaml.parseEvents(source, {})) {
    this.source = source;
    this.jsYaml = jsYaml;
    this.events = events;
    this.end = new Int32Array(this.events.length);
    this.aliasTarget = new Int32Array(this.events.length).fill(-1);
    this.lineStarts = computeLineStarts(source);
    this.linkEvents();
  }

  /**
   * Returns where the node at `path` is written. When the last step is a mapping key, this is
   * the position of the key (`app_user:`), because that is where a reader looks for a
   * declaration. With `preferValue`, it is the position of the value. A path that leaves the
   * document stops at the deepest node that exists, so a normalised path (`to[0]` of
   * `to: readonly`) still finds the line.
   */
  locate(path: KeyPath, preferValue = false): LineColumn {
    const found = this.walk(path);
    const event = preferValue || found.keyEvent < 0 ? found.valueEvent : found.keyEvent;
    return this.lineColumn(event < 0 ? 0 : this.startOffset(event));
  }

  /** Returns the line and column (1-based) of a character offset. */
  lineColumn(offset: number): LineColumn {
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.lineStarts[middle]! <= offset) low = middle;
      else high = middle - 1;
    }
    return { line: low + 1, column: offset - this.lineStarts[low]! + 1 };
  }

  /**
   * Finds a mapping key on `line` that repeats an earlier key of the same mapping. js-yaml reports
   * a duplicate key by the position of the second one only, so this adds the key, its path and
   * the position of the first one.
   */
  findDuplicateKey(line: number): { key: string; path: KeyPath; first: LineColumn; second: LineColumn } | undefined {
    const stack: { event: number; path: (string | number)[] }[] = [];
    const root = this.rootEvent();
    if (root >= 0) stack.push({ event: root, path: [] });

    while (stack.length > 0) {
      const { event, path } = stack.pop()!;
      const children = this.childrenOf(event);
      if (children?.kind === 'sequence') {
        children.items.forEach((item, index) => stack.push({ event: item, path: [...path, index] }));
        continue;
      }
      if (children?.kind !== 'mapping') continue;

      const seen = new Map<string, number>();
      for (const [keyEvent, valueEvent] of this.mappingPairs(event)) {
        const key = this.scalarText(keyEvent);
        if (key === undefined) continue;
        const start = this.startOffset(keyEvent);
        const earlier = seen.get(key);
        if (earlier !== undefined && this.lineColumn(start).line === line) {
          return { key, path: [...path, key], first: this.lineColumn(earlier), second: this.lineColumn(start) };
        }
        if (earlier === undefined) seen.set(key, start);
        stack.push({ event: valueEvent, path: [...path, key] });
      }
    }
    return undefined;
  }

  private walk(path: KeyPath): { keyEvent: number; valueEvent: number } {
    let node = this.rootEvent();
    let keyEvent = -1;

    for (const step of path) {
      if (node < 0) break;
      const target = this.resolveAlias(node);
      const children = this.childrenOf(target);
      let next: [number, number] | undefined;

      if (children?.kind === 'mapping') {
        next = this.findKey(target, String(step), 0);
      } else if (children?.kind === 'sequence') {
        const index = typeof step === 'number' ? step : /^\d+$/.test(step) ? Number(step) : -1;
        const item = children.items[index];
        if (item !== undefined) next = [-1, item];
      }
      if (!next) break;
      [keyEvent, node] = next;
    }
    return { keyEvent, valueEvent: node };
  }

  /** Looks a key up in a mapping, then in the mappings it merges with `<<`. */
  private findKey(mapping: number, key: string, depth: number): [number, number] | undefined {
    const children = this.childrenOf(mapping);
    if (children?.kind !== 'mapping' || depth > 20) return undefined;
    const direct = children.pairs.get(key);
    if (direct) return direct;

    const merge = children.pairs.get('<<');
    if (!merge) return undefined;
    const source = this.resolveAlias(merge[1]);
    const sources = this.childrenOf(source)?.kind === 'sequence'
      ? (this.childrenOf(source) as SequenceChildren).items.map((item) => this.resolveAlias(item))
      : [source];
    for (const each of sources) {
      const found = this.findKey(each, key, depth + 1);
      if (found) return found;
    }
    return undefined;
  }

  private childrenOf(event: number): MappingChildren | SequenceChildren | undefined {
    const cached = this.children.get(event);
    if (cached) return cached;

    const type = this.events[event]?.type;
    let result: MappingChildren | SequenceChildren | undefined;
    if (type === MAPPING) {
      const pairs = new Map<string, [number, number]>();
      for (const [keyEvent, valueEvent] of this.mappingPairs(event)) {
        const key = this.scalarText(keyEvent);
        if (key !== undefined && !pairs.has(key)) pairs.set(key, [keyEvent, valueEvent]);
      }
      result = { kind: 'mapping', pairs };
    } else if (type === SEQUENCE) {
      const items: number[] = [];
      for (let item = event + 1; this.events[item]!.type !== POP; item = this.end[item]! + 1) items.push(item);
      result = { kind: 'sequence', items };
    }
    if (result) this.children.set(event, result);
    return result;
  }

  private *mappingPairs(mapping: number): Generator<[number, number]> {
    let keyEvent = mapping + 1;
    while (this.events[keyEvent]!.type !== POP) {
      const valueEvent = this.end[keyEvent]! + 1;
      yield [keyEvent, valueEvent];
      keyEvent = this.end[valueEvent]! + 1;
    }
  }

  private scalarText(event: number): string | undefined {
    const value = this.events[event];
    return value?.type === SCALAR ? this.jsYaml.getScalarValue(this.source, value) : undefined;
  }

  private resolveAlias(event: number): number {
    const target = this.aliasTarget[event]!;
    return target >= 0 ? target : event;
  }

  private rootEvent(): number {
    const first = this.events[1];
    return this.events[0]?.type === DOCUMENT && first && first.type !== POP ? 1 : -1;
  }

  private startOffset(event: number): number {
    const value = this.events[event]!;
    const starts: number[] = [];
    if (value.type === SCALAR) {
      const quoted = value.style === SINGLE_QUOTED || value.style === DOUBLE_QUOTED;
      starts.push(quoted ? value.valueStart - 1 : value.valueStart);
    }
    if (value.type === MAPPING || value.type === SEQUENCE) starts.push(value.start);
    if ('anchorStart' in value && value.anchorStart >= 0) starts.push(value.anchorStart - 1);
    if ('tagStart' in value && value.tagStart >= 0) starts.push(value.tagStart);
    const valid = starts.filter((offset) => offset >= 0);
    return valid.length > 0 ? Math.min(...valid) : 0;
  }

  /** Fills `end` (container → closing POP) and `aliasTarget` (alias → anchored node) in one pass. */
  private linkEvents(): void {
    const open: number[] = [];
    const anchors = new Map<string, number>();

    for (let index = 0; index < this.events.length; index++) {
      const event = this.events[index]!;
      this.end[index] = index;

      if (event.type === ALIAS) {
        this.aliasTarget[index] = anchors.get(this.source.slice(event.anchorStart, event.anchorEnd)) ?? -1;
        continue;
      }
      if (event.type === POP) {
        const opener = open.pop();
        if (opener !== undefined) this.end[opener] = index;
        continue;
      }
      if ('anchorStart' in event && event.anchorStart >= 0) {
        anchors.set(this.source.slice(event.anchorStart, event.anchorEnd), index);
      }
      if (event.type === DOCUMENT || event.type === MAPPING || event.type === SEQUENCE) open.push(index);
    }
  }
}

function computeLineStarts(source: string): number[] {
  const starts = [0];
  let offset = source.indexOf('\n');
  while (offset >= 0) {
    starts.push(offset + 1);
    offset = source.indexOf('\n', offset + 1);
  }
  return starts;
}
