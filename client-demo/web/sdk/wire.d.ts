// Types of wire.js: Tickwire's schema-driven wire (protocol v4). Every value on the wire is an
// unsigned 32-bit word (`number`); a Signed field holds an i32's bits (read it with `v | 0`).

/** Malformed bytes, a bad schema, or a snapshot that does not fit the mirror. */
export class WireError extends Error {}

export type Encoding = "U8" | "U16" | "U32" | "Varint" | "Signed" | "Entity" | "Tick";
export const ENCODINGS: readonly Encoding[];

/** What a field means to a client that knows no game. */
export type Hint =
  | "Plain"
  | "Owner"
  | { X: { scale: number } }
  | { Y: { scale: number } }
  | { Angle: { turn: number } };

export interface FieldDef {
  name: string;
  encoding: Encoding;
  /** The game's prediction rule computes it; the wire carries only corrections. */
  predicted: boolean;
  hint: Hint;
}

export interface ComponentDef {
  name: string;
  fields: FieldDef[];
}

export interface KindDef {
  name: string;
  /** Indices into `SchemaDef.components`, in wire order. */
  components: number[];
  /** Entities of the kind carry a display name when they spawn. */
  named: boolean;
  /** One value per field: a spawn is a patch against it (a Tick field's is the snapshot's tick). */
  template: number[];
}

export interface EventDef {
  name: string;
  fields: FieldDef[];
}

/** A game's schema, as the Welcome carries it. */
export interface SchemaDef {
  game: string;
  components: ComponentDef[];
  kinds: KindDef[];
  events: EventDef[];
  input: FieldDef[];
}

export const SECTION: { readonly REMOVED: 1; readonly CHANGED: 2; readonly SPAWNED: 4; readonly EVENTS: 8; readonly ALL: 15 };
export const MAX_KIND_FIELDS: 32;
export const MAX_EVENT_FIELDS: 8;
export const MAX_INPUT_FIELDS: 8;
export const MAX_PREDICTED_TICKS: 128;

/** Reads bincode 2 standard values. */
export class Reader {
  constructor(bytes: Uint8Array);
  remaining(): number;
  u8(): number;
  u16le(): number;
  u32le(): number;
  varint(): number;
  varintU32(): number;
  varintU16(): number;
  count(): number;
  zigzag(): number;
  bool(): boolean;
  str(): string;
  vec<T>(item: () => T): T[];
  finish(): void;
}

/** Decodes a schema from its bytes. */
export function decodeSchema(bytes: Uint8Array | Reader): SchemaDef;

export interface Slot {
  encoding: Encoding;
  predicted: boolean;
  name: string;
  component: string;
}

export interface KindLayout {
  name: string;
  slots: Slot[];
  /** [component index, first field] per component of the kind. */
  components: [number, number][];
  named: boolean;
  /** Indices of the predicted fields. */
  predicted: number[];
  template: number[];
}

/** A checked schema laid out for the codec; the constructor throws WireError naming what is wrong. */
export class Schema {
  constructor(def: SchemaDef);
  readonly def: SchemaDef;
  readonly kinds: KindLayout[];
  readonly events: Encoding[][];
  readonly input: Encoding[];
  kindIndex(name: string): number;
  eventIndex(name: string): number;
}

/** One entity of a frame. */
export interface Entity {
  id: number;
  kind: number;
  /** One value per field of the kind, in wire order. */
  fields: number[];
}

/** The world at one tick: entities sorted by id. */
export type Frame = Entity[];

/** The position of entity `id` in a frame, or -1. */
export function findEntity(frame: Frame, id: number): number;

export interface Delta {
  removed: number[];
  changed: { index: number; mask: number }[];
  spawned: { id: number; kind: number; name: string; mask: number }[];
  values: number[];
}

export interface GameEvent {
  kind: number;
  /** MAX_EVENT_FIELDS values; ticks absolute. */
  fields: number[];
}

export type SnapshotBase = { Full: { tick: number } } | { Since: { ticks: number } };

export interface Snapshot {
  base: SnapshotBase;
  delta: Delta;
  events: GameEvent[];
  ack: number;
}

/** The snapshot being predicted. */
export interface Step {
  tickRate: number;
  /** Ticks since the baseline (0: a full snapshot). */
  ticks: number;
  tick: number;
}

/**
 * A game's prediction rule. Both methods overwrite predicted fields only (anything else they
 * write is ignored) and must not throw, whatever the values.
 */
export interface Predictor {
  /** An entity was `base`; `next` holds its new values with predicted fields at the base's. */
  moved?(step: Step, kind: number, base: readonly number[], next: number[]): void;
  /** A new entity; predicted fields start at the template's. */
  origin?(step: Step, kind: number, spawned: number[], survivors: Frame): void;
}

export function decodeSnapshot(schema: Schema, bytes: Uint8Array, base: Frame, baseTick: number): Snapshot;
export function applyDelta(schema: Schema, base: Frame, delta: Delta, step: Step, predictor?: Predictor): Frame;

/** The world as of the last snapshot, for any game. */
export class WireMirror {
  constructor(schema: Schema, predictor?: Predictor, tickRate?: number);
  readonly schema: Schema;
  tickRate: number;
  /** The tick of the last snapshot (0: none yet). */
  readonly tick: number;
  readonly frame: Frame;
  readonly names: Map<number, string>;
  readonly ackInputSeq: number;
  setTickRate(rate: number): void;
  /** Applies one snapshot's bytes (after the message's variant byte); returns its events. */
  apply(bytes: Uint8Array): GameEvent[];
  entity(id: number): Entity | null;
  /** Component `name` of entity `id` as `{ field: value }` (Signed fields signed), or null. */
  component(id: number, name: string): Record<string, number> | null;
  name(id: number): string | undefined;
}

export const PROTOCOL_VERSION: 4;
export const SUBPROTOCOL: "tickwire.v4";

export interface Input {
  seq: number;
  view_tick: number;
  /** The schema's input fields, in order. */
  fields: number[];
}

/** `client_time`: an integer in 0..2^53 (it comes back in a Pong). */
export type ClientMsg = { Input: Input } | { Ping: { client_time: number } };

export function encodeClient(schema: Schema, msg: ClientMsg): Uint8Array;

export interface Welcome {
  protocol_version: number;
  match_id: string;
  player_id: string;
  /** This player's entity (0 for a spectator). */
  entity: number;
  tick_rate: number;
  snapshot_interval: number;
  tick: number;
  interest_radius: number;
  schema: SchemaDef;
  /** The game's own setup, JSON text. */
  setup: string;
}

export type EndReason = "Empty" | "Admin" | "Shutdown" | "Error" | { Game: string };

export type ServerMsg =
  | { Welcome: Welcome }
  /** The payload WireMirror.apply takes. */
  | { Snapshot: Uint8Array }
  | { Pong: { client_time: number; server_tick: number } }
  /** `results` is the game's, JSON text. */
  | { MatchEnded: { reason: EndReason; tick: number; results: string } }
  | { MatchSettings: { tick: number; tick_rate: number; snapshot_interval: number } };

export function decodeServer(bytes: Uint8Array): ServerMsg;
