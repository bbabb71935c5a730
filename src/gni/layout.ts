/**
 * Where the parts of an XML GNI document lie, in bytes: the end of the root start tag, each
 * top-level section (`configuration`, `vpcs`, `instances`, …) and, in wrapper sections, where
 * each entity ends. Recorded while scanning an ASCII document (then characters are bytes) and
 * used by the incremental reader to find the spans of a new document that are byte-equal to
 * the last one's, whose entities it reuses instead of scanning them again.
 */

/** One top-level element of the root. */
export interface SectionLayout {
  readonly name: string;
  /** The `<` of its start tag. */
  readonly start: number;
  /** Just after its start tag. */
  openEnd: number;
  /** Just after its end tag. */
  end: number;
  /** Wrapper sections: just after each entity; entity k spans `[k ? itemEnds[k-1] : openEnd,
   * itemEnds[k])`, the white space before it included. */
  readonly itemEnds: number[] | undefined;
}

/** A node's `instanceIds` element in the configuration. */
export interface ListSpan {
  /** The `<` of its start tag. */
  readonly start: number;
  /** Just after its end tag. */
  end: number;
  /** Keys and list indexes from the plain root to the list (`configuration`, `property`, 4,
   * `cluster`, 0, …, `instanceIds`). */
  readonly path: readonly (string | number)[];
}

/** The layout of a whole document. */
export interface DocLayout {
  /** Just after the root start tag. */
  readonly rootOpenEnd: number;
  readonly sections: readonly SectionLayout[];
  /** The nodes' instance lists, in document order. */
  readonly lists: readonly ListSpan[];
}

/** Collects a layout as the scanner reports tag ends (positions relative to `base`). */
export class LayoutRecorder {
  /** Where the text being scanned starts in the document, in bytes. */
  base = 0;
  /** False once a scanned text was not ASCII (characters are no longer bytes). */
  ascii = true;
  rootOpenEnd = -1;
  readonly sections: SectionLayout[] = [];

  /** A section starts at `lt` (relative); `wrapper` if it holds entities. */
  sectionStart(name: string, lt: number, wrapper: boolean): void {
    this.sections.push({
      name,
      start: this.base + lt,
      openEnd: -1,
      end: -1,
      itemEnds: wrapper ? [] : undefined,
    });
  }

  /** The start tag of the element at depth `d` ends at `end` (relative). */
  openEnd(d: number, end: number): void {
    if (d === 0) this.rootOpenEnd = this.base + end;
    else if (d === 1) this.last().openEnd = this.base + end;
  }

  /** An entity of the current wrapper section ends at `end` (relative). */
  itemEnd(end: number): void {
    this.itemEndAt(this.base + end);
  }

  /** An entity of the current wrapper section ends at `end` (absolute). */
  itemEndAt(end: number): void {
    this.last().itemEnds?.push(end);
  }

  readonly lists: ListSpan[] = [];

  /** A node's instance list at `path` starts at `lt` (relative). */
  listStart(lt: number, path: readonly (string | number)[]): void {
    this.lists.push({ start: this.base + lt, end: -1, path });
  }

  /** The instance list last started ends at `end` (relative). */
  listEnd(end: number): void {
    const l = this.lists[this.lists.length - 1];
    if (l !== undefined && l.end < 0) l.end = this.base + end;
  }

  /** Entities of the current wrapper section end at `ends[from..to)` moved by `shift`
   * (absolute). */
  itemEndsAt(ends: readonly number[], from: number, to: number, shift: number): void {
    const list = this.last().itemEnds;
    if (list !== undefined) for (let i = from; i < to; i++) list.push(ends[i]! + shift);
  }

  /** The current section ends at `end` (relative). */
  sectionEnd(end: number): void {
    this.last().end = this.base + end;
  }

  /** Adds a section taken whole from an earlier layout (absolute positions). */
  addSection(section: SectionLayout): void {
    this.sections.push(section);
  }

  /** The layout, if every position was recorded from ASCII text. */
  layout(): DocLayout | undefined {
    if (!this.ascii || this.rootOpenEnd < 0) return undefined;
    for (const s of this.sections) if (s.openEnd < 0 || s.end < 0) return undefined;
    const lists = this.lists.filter((l) => l.end >= 0);
    return { rootOpenEnd: this.rootOpenEnd, sections: this.sections, lists };
  }

  private last(): SectionLayout {
    const s = this.sections[this.sections.length - 1];
    if (s === undefined) throw new Error('layout: no open section'); // a scanner bug
    return s;
  }
}
