//! Swept hit tests in world units: a moving point against circles and rectangles.

/// True if the segment `a`→`b` passes within `r` of `c`.
pub fn segment_hits_circle(a: (f64, f64), b: (f64, f64), c: (f64, f64), r: f64) -> bool {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((c.0 - a.0) * dx + (c.1 - a.1) * dy) / len2).clamp(0.0, 1.0)
    };
    let (px, py) = (a.0 + t * dx - c.0, a.1 + t * dy - c.1);
    px * px + py * py <= r * r
}

/// True if the segment `a`→`b` touches the rectangle `[x0, x1] × [y0, y1]` (slab method).
pub fn segment_hits_rect(a: (f64, f64), b: (f64, f64), min: (f64, f64), max: (f64, f64)) -> bool {
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, d, lo, hi) in [
        (a.0, b.0 - a.0, min.0, max.0),
        (a.1, b.1 - a.1, min.1, max.1),
    ] {
        if d == 0.0 {
            if p < lo || p > hi {
                return false;
            }
        } else {
            let (mut ta, mut tb) = ((lo - p) / d, (hi - p) / d);
            if ta > tb {
                std::mem::swap(&mut ta, &mut tb);
            }
            t0 = t0.max(ta);
            t1 = t1.min(tb);
            if t0 > t1 {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_segment_through_circle_hits() {
        assert!(segment_hits_circle(
            (0.0, 0.0),
            (100.0, 0.0),
            (50.0, 10.0),
            12.0
        ));
        assert!(!segment_hits_circle(
            (0.0, 0.0),
            (100.0, 0.0),
            (50.0, 30.0),
            12.0
        ));
        assert!(!segment_hits_circle(
            (0.0, 0.0),
            (10.0, 0.0),
            (50.0, 0.0),
            12.0
        ));
    }

    #[test]
    fn segment_against_rect() {
        assert!(segment_hits_rect(
            (0.0, 5.0),
            (20.0, 5.0),
            (10.0, 0.0),
            (12.0, 10.0)
        ));
        assert!(!segment_hits_rect(
            (0.0, 15.0),
            (20.0, 15.0),
            (10.0, 0.0),
            (12.0, 10.0)
        ));
        assert!(!segment_hits_rect(
            (0.0, 5.0),
            (8.0, 5.0),
            (10.0, 0.0),
            (12.0, 10.0)
        ));
    }
}
