//! docs/protocol.md §8 shows real frames: every hex block there is a frame the
//! `wire_examples` example prints today, and every frame it prints (but the recording's
//! records, which docs/recording.md annotates byte by byte) is shown there. A change to the
//! wire that leaves the doc behind fails here.

#[path = "../../examples/wire_examples.rs"]
mod wire_examples;

fn is_hex_frame(line: &str) -> bool {
    let line = line.trim();
    !line.is_empty()
        && line
            .split(' ')
            .all(|b| b.len() == 2 && b.bytes().all(|c| c.is_ascii_hexdigit()))
}

fn normalized(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_protocol_docs_examples_are_the_frames_the_server_makes() {
    let printed = wire_examples::render();
    let mut frames = Vec::new();
    let mut what = "";
    for line in printed.lines() {
        if is_hex_frame(line) {
            frames.push((what.to_owned(), normalized(line)));
        } else if !line.starts_with("  ") {
            what = line;
        }
    }
    assert!(frames.len() >= 10, "frames printed: {}", frames.len());

    let doc = include_str!("../../../docs/protocol.md");
    let start = doc.find("## 8. Examples").expect("§8");
    let end = start + doc[start..].find("\n## 9.").expect("§9");
    let section = &doc[start..end];
    let flat = normalized(section);

    // Each fenced block of §8 is a frame printed now.
    let blocks: Vec<String> = section
        .split("```")
        .skip(1)
        .step_by(2)
        .map(normalized)
        .collect();
    assert!(blocks.len() >= 8, "blocks in §8: {}", blocks.len());
    for block in &blocks {
        assert!(
            frames.iter().any(|(_, f)| f == block),
            "docs/protocol.md §8 shows a frame the server no longer makes:\n{block}\n\
             (cargo run -p server --example wire_examples prints today's)"
        );
    }
    // Each frame printed (but recording records) is in §8, in a block or inline.
    for (what, frame) in frames.iter().filter(|(w, _)| !w.starts_with("recording:")) {
        assert!(
            flat.contains(frame.as_str()),
            "{what} is not in docs/protocol.md §8:\n{frame}"
        );
    }
}
