//! The schema-driven wire with a game that is not the arena: balls that move by their own
//! velocity (predicted), named players, and shots that spawn at their owner. Any sequence of
//! worlds arrives exactly, steady motion costs nothing, and any bytes decode or fail cleanly.
// Test code: a missing value is a failed test, and `expect` says which.
#![allow(clippy::expect_used)]

use std::sync::Arc;

use proptest::prelude::*;
use shared::wire::component::{ComponentSlots, Replicated};
use shared::wire::delta::{apply, diff};
use shared::wire::event::Event;
use shared::wire::frame::Frame;
use shared::wire::mirror::Mirror;
use shared::wire::predict::{MAX_PREDICTED_TICKS, Predictor, Step};
use shared::wire::schema::{
    ComponentDef, Encoding, EventDef, FieldDef, Hint, KindDef, Schema, SchemaDef,
};
use shared::wire::snapshot::{self, SnapshotBase};

const BALL: u16 = 0;
const PLAYER: u16 = 1;
const SHOT: u16 = 2;

/// A ball's position and velocity: x and y are predicted from vx and vy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ball {
    x: i32,
    y: i32,
    vx: i32,
    vy: i32,
}

impl Replicated for Ball {
    const NAME: &'static str = "ball";

    fn def() -> ComponentDef {
        ComponentDef {
            name: Self::NAME.into(),
            fields: vec![
                FieldDef::new("x", Encoding::Signed)
                    .predicted()
                    .hint(Hint::X { scale: 1 }),
                FieldDef::new("y", Encoding::Signed)
                    .predicted()
                    .hint(Hint::Y { scale: 1 }),
                FieldDef::new("vx", Encoding::Signed),
                FieldDef::new("vy", Encoding::Signed),
            ],
        }
    }

    fn write(&self, out: &mut [u32]) {
        out.copy_from_slice(&[self.x as u32, self.y as u32, self.vx as u32, self.vy as u32]);
    }

    fn read(f: &[u32]) -> Ball {
        Ball {
            x: f[0] as i32,
            y: f[1] as i32,
            vx: f[2] as i32,
            vy: f[3] as i32,
        }
    }
}

fn schema() -> Arc<Schema> {
    let plain = |n: &str, e| FieldDef::new(n, e);
    let def = SchemaDef {
        game: "toy".into(),
        components: vec![
            Ball::def(),
            ComponentDef {
                name: "player".into(),
                fields: vec![
                    plain("x", Encoding::Signed),
                    plain("y", Encoding::Signed),
                    plain("hp", Encoding::U8),
                    plain("score", Encoding::Varint),
                    plain("since", Encoding::Tick),
                ],
            },
            ComponentDef {
                name: "shot".into(),
                fields: vec![
                    plain("x", Encoding::Signed).predicted(),
                    plain("y", Encoding::Signed).predicted(),
                    plain("owner", Encoding::Entity).hint(Hint::Owner),
                    plain("angle", Encoding::U16).hint(Hint::Angle { turn: 65536 }),
                    plain("big", Encoding::U32),
                ],
            },
        ],
        kinds: vec![
            KindDef {
                name: "ball".into(),
                components: vec![0],
                named: false,
                template: vec![0; 4],
            },
            KindDef {
                name: "player".into(),
                components: vec![1],
                named: true,
                template: vec![0, 0, 100, 0, 0],
            },
            KindDef {
                name: "shot".into(),
                components: vec![2],
                named: false,
                template: vec![0; 5],
            },
        ],
        events: vec![EventDef {
            name: "hit".into(),
            fields: vec![
                plain("at", Encoding::Tick),
                plain("who", Encoding::Entity),
                plain("damage", Encoding::U8),
            ],
        }],
        input: vec![plain("keys", Encoding::U8)],
    };
    Arc::new(Schema::new(def).expect("valid schema"))
}

/// Balls move by their velocity each tick; a shot appears at its owner's position.
struct Rule;

impl Predictor for Rule {
    fn moved(&self, step: &Step, kind: u16, _base: &[u32], next: &mut [u32]) {
        if kind == BALL && step.ticks <= MAX_PREDICTED_TICKS {
            let t = step.ticks;
            next[0] = next[0].wrapping_add(next[2].wrapping_mul(t));
            next[1] = next[1].wrapping_add(next[3].wrapping_mul(t));
        }
    }

    fn origin(&self, _step: &Step, kind: u16, spawned: &mut [u32], survivors: &Frame) {
        if kind == SHOT
            && let Some(owner) = survivors.get(spawned[2])
        {
            spawned[0] = owner.fields[0];
            spawned[1] = owner.fields[1];
        }
    }
}

fn fields(kind: u16) -> BoxedStrategy<Vec<u32>> {
    let small = || prop_oneof![Just(0u32), 0u32..5, any::<u32>()];
    match kind {
        BALL => prop::collection::vec(small(), 4).boxed(),
        PLAYER => (
            small(),
            small(),
            prop_oneof![Just(100u32), 0u32..300],
            small(),
            small(),
        )
            .prop_map(|(a, b, c, d, e)| vec![a, b, c, d, e])
            .boxed(),
        _ => (small(), small(), 0u32..8, any::<u32>(), small())
            .prop_map(|(a, b, c, d, e)| vec![a, b, c, d, e])
            .boxed(),
    }
}

fn world() -> impl Strategy<Value = Frame> {
    prop::collection::btree_map(
        0u32..24,
        (BALL..=SHOT).prop_flat_map(|k| (Just(k), fields(k))),
        0..16,
    )
    .prop_map(|m| {
        let schema = schema();
        let mut f = Frame::new();
        for (id, (kind, values)) in m {
            f.push(&schema, id, kind, &values).expect("valid entity");
        }
        f
    })
}

/// Encodes `delta` with its events and ack, then decodes it against `base`.
fn over_the_wire(
    schema: &Schema,
    snap: SnapshotBase,
    base: &Frame,
    base_tick: u32,
    delta: &shared::wire::delta::Delta,
    events: &[Event],
    tick: u32,
) -> snapshot::Snapshot {
    let mut bytes = Vec::new();
    snapshot::encode_body(schema, snap, base, delta, events, tick, &mut bytes);
    snapshot::encode_ack(7, &mut bytes);
    snapshot::decode(schema, &bytes, base, base_tick).expect("decodes")
}

fn name(id: u32) -> String {
    format!("p{id}")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Any sequence of worlds, at any gaps and tick rates, arrives exactly through the wire, and
    /// events keep their ticks.
    #[test]
    fn any_sequence_of_worlds_round_trips(
        worlds in prop::collection::vec(world(), 1..6),
        gaps in prop::collection::vec(1u32..200, 6),
        who in 0u32..24,
    ) {
        let schema = schema();
        let mut tick = 300;
        let step = Step { tick_rate: 30, ticks: 0, tick };
        let empty = Frame::new();
        let d = diff(&schema, &empty, &worlds[0], name, &step, &Rule);
        let snap = over_the_wire(&schema, SnapshotBase::Full { tick }, &empty, 0, &d, &[], tick);
        let mut mirror = apply(&schema, &empty, &snap.delta, &step, &Rule).expect("full applies");
        prop_assert_eq!(&mirror, &worlds[0]);
        for (w, gap) in worlds[1..].iter().zip(&gaps) {
            let base_tick = tick;
            tick += gap;
            let step = Step { tick_rate: 30, ticks: *gap, tick };
            let events = [Event::new(0, &[tick - 3, who, 25])];
            let d = diff(&schema, &mirror, w, name, &step, &Rule);
            let snap = over_the_wire(&schema, SnapshotBase::Since { ticks: *gap }, &mirror, base_tick, &d, &events, tick);
            prop_assert_eq!(&snap.events[..], &events[..]);
            prop_assert_eq!(&snap.delta, &d);
            mirror = apply(&schema, &mirror, &snap.delta, &step, &Rule).expect("delta applies");
            prop_assert_eq!(&mirror, w);
        }
    }

    /// Balls flying by their velocity cost nothing.
    #[test]
    fn steady_motion_costs_nothing(base in world(), ticks in 1u32..40) {
        let schema = schema();
        let step = Step { tick_rate: 30, ticks, tick: 1000 };
        let mut target = Frame::new();
        for e in base.iter() {
            let mut v = e.fields.to_vec();
            Rule.moved(&step, e.kind, e.fields, &mut v);
            target.push(&schema, e.id, e.kind, &v).expect("valid");
        }
        prop_assert!(diff(&schema, &base, &target, name, &step, &Rule).is_empty());
    }

    /// Any bytes against any baseline decode or fail, and what decodes applies or fails:
    /// never a panic.
    #[test]
    fn any_bytes_are_an_error_or_a_snapshot(base in world(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let schema = schema();
        if let Ok(snap) = snapshot::decode(&schema, &bytes, &base, 10) {
            let step = Step { tick_rate: 30, ticks: 1, tick: 11 };
            let _ = apply(&schema, &base, &snap.delta, &step, &Rule);
        }
    }
}

#[test]
fn a_quiet_delta_is_two_bytes_and_a_shot_at_its_owner_costs_no_position() {
    let schema = schema();
    let step = Step {
        tick_rate: 30,
        ticks: 1,
        tick: 50,
    };
    let mut base = Frame::new();
    base.push(&schema, 1, PLAYER, &[40, 70, 100, 0, 0])
        .expect("valid");
    let d = diff(&schema, &base, &base, name, &step, &Rule);
    let mut bytes = Vec::new();
    snapshot::encode_body(
        &schema,
        SnapshotBase::Since { ticks: 1 },
        &base,
        &d,
        &[],
        50,
        &mut bytes,
    );
    assert_eq!(bytes, [1, 0], "since 1, no sections");

    let mut target = base.clone();
    target
        .push(&schema, 2, SHOT, &[40, 70, 1, 0x1234, 0])
        .expect("valid");
    let d = diff(&schema, &base, &target, name, &step, &Rule);
    assert_eq!(
        d.spawned[0].mask, 0b1100,
        "owner and angle differ from the template; x, y predicted"
    );
    let mut bytes = Vec::new();
    snapshot::encode_body(
        &schema,
        SnapshotBase::Since { ticks: 1 },
        &base,
        &d,
        &[],
        50,
        &mut bytes,
    );
    // since 1; sections: spawned; 1 spawn: id 2, kind 2, mask (owner, angle), owner 1, angle LE
    assert_eq!(bytes, [1, 4, 1, 2, 2, 0b1100, 1, 0x34, 0x12]);
}

#[test]
fn a_mirror_mirrors_a_game_it_knows_only_by_its_schema() {
    let schema = schema();
    let mut server_world = Frame::new();
    let ball = Ball {
        x: 10,
        y: 20,
        vx: 3,
        vy: -1,
    };
    let mut v = [0u32; 4];
    ball.write(&mut v);
    server_world.push(&schema, 5, BALL, &v).expect("valid");
    server_world
        .push(&schema, 6, PLAYER, &[1, 2, 100, 0, 0])
        .expect("valid");
    let step = Step {
        tick_rate: 30,
        ticks: 0,
        tick: 100,
    };
    let d = diff(&schema, &Frame::new(), &server_world, name, &step, &Rule);
    let mut bytes = Vec::new();
    snapshot::encode_body(
        &schema,
        SnapshotBase::Full { tick: 100 },
        &Frame::new(),
        &d,
        &[],
        100,
        &mut bytes,
    );
    snapshot::encode_ack(9, &mut bytes);

    let mut mirror = Mirror::new(schema.clone(), Box::new(Rule), 30);
    mirror.apply(&bytes).expect("applies");
    assert_eq!(mirror.component::<Ball>(5), Some(ball));
    assert_eq!(mirror.name(6), Some("p6"));
    assert_eq!(mirror.ack_input_seq(), 9);

    // Ten ticks later the ball has flown by its velocity: the snapshot says nothing of it.
    let mut later = Frame::new();
    let moved = Ball {
        x: 40,
        y: 10,
        ..ball
    };
    moved.write(&mut v);
    later.push(&schema, 5, BALL, &v).expect("valid");
    later
        .push(&schema, 6, PLAYER, &[1, 2, 100, 0, 0])
        .expect("valid");
    let step = Step {
        tick_rate: 30,
        ticks: 10,
        tick: 110,
    };
    let d = diff(&schema, &server_world, &later, name, &step, &Rule);
    assert!(d.is_empty());
    let mut bytes = Vec::new();
    snapshot::encode_body(
        &schema,
        SnapshotBase::Since { ticks: 10 },
        &server_world,
        &d,
        &[],
        110,
        &mut bytes,
    );
    snapshot::encode_ack(0, &mut bytes);
    assert_eq!(bytes, [10, 0, 0]);
    mirror.apply(&bytes).expect("applies");
    let slots = ComponentSlots::of::<Ball>(&schema);
    let e = mirror.entity(5).expect("ball");
    assert_eq!(slots.read::<Ball>(&e), Some(moved));
    assert_eq!(mirror.tick(), 110);
}

/// A rule that also scribbles on a field it does not predict.
struct Scribbler;

impl Predictor for Scribbler {
    fn moved(&self, _step: &Step, _kind: u16, base: &[u32], next: &mut [u32]) {
        next[0] = base[0].wrapping_add(1);
        next[2] = 99;
    }
}

#[test]
fn a_rule_cannot_change_a_field_it_does_not_predict() {
    let schema = schema();
    let step = Step {
        tick_rate: 30,
        ticks: 1,
        tick: 9,
    };
    let mut base = Frame::new();
    base.push(&schema, 1, BALL, &[10, 0, 5, 0]).expect("valid");
    let mut target = Frame::new();
    target
        .push(&schema, 1, BALL, &[11, 0, 5, 0])
        .expect("valid");
    let d = diff(&schema, &base, &target, name, &step, &Scribbler);
    assert!(d.is_empty(), "x is as predicted, vx as it was");
    assert_eq!(apply(&schema, &base, &d, &step, &Scribbler), Ok(target));
}

#[test]
fn a_component_the_schema_lays_out_differently_reads_as_absent() {
    let mut def = schema().def().clone();
    def.components[0].fields.truncate(1);
    def.kinds[0].template.truncate(1);
    let narrow = Schema::new(def).expect("valid");
    let mut f = Frame::new();
    f.push(&narrow, 1, BALL, &[4]).expect("valid");
    let e = f.get(1).expect("entity 1");
    assert_eq!(ComponentSlots::of::<Ball>(&narrow).read::<Ball>(&e), None);
}

#[test]
fn a_kind_naming_a_wide_component_many_times_is_refused_before_it_is_laid_out() {
    let mut def = schema().def().clone();
    def.components[0].fields = (0..2000)
        .map(|i| FieldDef::new(&format!("f{i}"), Encoding::U8))
        .collect();
    def.kinds[0].components = vec![0; 2000];
    assert!(matches!(
        Schema::new(def),
        Err(shared::wire::schema::SchemaError::TooManyFields { fields: 2000, .. })
    ));
}

#[test]
fn an_entity_whose_kind_changes_keeps_only_the_name_it_spawns_with() {
    let schema = schema();
    let mut mirror = Mirror::new(schema.clone(), Box::new(Rule), 30);
    let send = |base: &Frame, target: &Frame, snap, tick, mirror: &mut Mirror| {
        let ticks = match snap {
            SnapshotBase::Since { ticks } => ticks,
            SnapshotBase::Full { .. } => 0,
        };
        let step = Step {
            tick_rate: 30,
            ticks,
            tick,
        };
        let d = diff(&schema, base, target, name, &step, &Rule);
        let mut bytes = Vec::new();
        snapshot::encode_body(&schema, snap, base, &d, &[], tick, &mut bytes);
        snapshot::encode_ack(0, &mut bytes);
        mirror.apply(&bytes).expect("applies");
    };
    let mut player = Frame::new();
    player
        .push(&schema, 7, PLAYER, &[0, 0, 100, 0, 0])
        .expect("valid");
    send(
        &Frame::new(),
        &player,
        SnapshotBase::Full { tick: 5 },
        5,
        &mut mirror,
    );
    assert_eq!(mirror.name(7), Some("p7"));
    let mut ball = Frame::new();
    ball.push(&schema, 7, BALL, &[0; 4]).expect("valid");
    send(
        &player,
        &ball,
        SnapshotBase::Since { ticks: 1 },
        6,
        &mut mirror,
    );
    assert_eq!(mirror.entity(7).map(|e| e.kind), Some(BALL));
    assert_eq!(mirror.name(7), None);
}
