import type { Event } from 'js-yaml';
import type { SourcePosition, SourceRef } from './types.js';
import { PositionIndex, type KeyPath } from './positions.js';

type JsYaml = typeof import('js-yaml');

/**
 * The text of every file of one configuration, with a position index per file built on the first
 * look-up. Keeping the text (rather than rereading the file) makes positions match the values
 * even when the file changes on disk after loading.
 */
export class SourceFiles {
  private readonly texts = new Map<string, string>();
  /** The parser's events of files that parsed, kept until their index is built or releaseEvents(). */
  private readonly events = new Map<string, Event[]>();
  private readonly indexes = new Map<string, PositionIndex | null>();
  private readonly jsYaml: JsYaml;

  constructor(jsYaml: JsYaml) {
    this.jsYaml = jsYaml;
  }

  add(file: string, text: string): void {
    this.texts.set(file, text);
  }

  /** Stores the parser's events of a file, which its position index then uses instead of parsing again. */
  addEvents(file: string, events: Event[]): void {
    this.events.set(file, events);
  }

  /**
   * Drops the events of files whose index was not built. A file that later needs its index is
   * parsed again, and the configuration does not keep the events of every file alive meanwhile.
   */
  releaseEvents(): void {
    this.events.clear();
  }

  /** Returns the text of a file, or undefined when it was not added. */
  text(file: string): string | undefined {
    return this.texts.get(file);
  }

  /** Returns the position of a key path; line 1, column 1 when the file is unknown or unparsable. */
  locate(ref: SourceRef, preferValue = false): SourcePosition {
    const index = this.indexOf(ref.file);
    if (!index) return { file: ref.file, line: 1, column: 1 };
    return { file: ref.file, ...index.locate(ref.path, preferValue) };
  }

  /** Returns the position of a character offset, such as js-yaml's mark of a syntax error. */
  locateOffset(file: string, offset: number): SourcePosition {
    const index = this.indexOf(file);
    if (index) return { file, ...index.lineColumn(offset) };
    return { file, line: 1, column: 1 };
  }

  /** Returns the position index of a file, for look-ups that need more than one position. */
  indexOf(file: string): PositionIndex | undefined {
    if (!this.indexes.has(file)) {
      const text = this.texts.get(file);
      let index: PositionIndex | null = null;
      if (text !== undefined) {
        try {
          index = new PositionIndex(text, this.jsYaml, this.events.get(file));
        } catch {
          // The event parser rejects what the loader rejected; such a file has no positions.
          index = null;
        }
      }
      this.indexes.set(file, index);
      this.events.delete(file);
    }
    return this.indexes.get(file) ?? undefined;
  }
}

export type { KeyPath };
