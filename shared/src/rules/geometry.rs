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
    segment_enters_rect(a, b, min, max).is_some()
}

/// Where along the segment `a`→`b` (0 = `a`, 1 = `b`) it first touches the rectangle
/// `[x0, x1] × [y0, y1]`, if it does (slab method; 0 when `a` is inside).
pub fn segment_enters_rect(
    a: (f64, f64),
    b: (f64, f64),
    min: (f64, f64),
    max: (f64, f64),
) -> Option<f64> {
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, d, lo, hi) in [
        (a.0, b.0 - a.0, min.0, max.0),
        (a.1, b.1 - a.1, min.1, max.1),
    ] {
        if d == 0.0 {
            if p < lo || p > hi {
                return None;
            }
        } else {
            let (mut ta, mut tb) = ((lo - p) / d, (hi - p) / d);
            if ta > tb {
                std::mem::swap(&mut ta, &mut tb);
            }
            t0 = t0.max(ta);
            t1 = t1.min(tb);
            if t0 > t1 {
                return None;
            }
        }
    }
    Some(t0)
}

/// Where along the segment `a`→`b` (0 = `a`, 1 = `b`) it first comes within `r` of `c`, if it
/// does (0 when `a` is already within).
pub fn segment_enters_circle(a: (f64, f64), b: (f64, f64), c: (f64, f64), r: f64) -> Option<f64> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (fx, fy) = (a.0 - c.0, a.1 - c.1);
    let cc = fx * fx + fy * fy - r * r;
    if cc <= 0.0 {
        return Some(0.0);
    }
    let aa = dx * dx + dy * dy;
    if aa == 0.0 {
        return None;
    }
    let bb = 2.0 * (fx * dx + fy * dy);
    let disc = bb * bb - 4.0 * aa * cc;
    if disc < 0.0 {
        return None;
    }
    let t = (-bb - disc.sqrt()) / (2.0 * aa);
    (0.0..=1.0).contains(&t).then_some(t)
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
    fn entry_points_along_a_segment() {
        let t = segment_enters_circle((0.0, 0.0), (100.0, 0.0), (50.0, 0.0), 10.0);
        assert_eq!(t, Some(0.4));
        assert_eq!(
            segment_enters_circle((0.0, 0.0), (100.0, 0.0), (50.0, 11.0), 10.0),
            None
        );
        assert_eq!(
            segment_enters_circle((0.0, 0.0), (30.0, 0.0), (50.0, 0.0), 10.0),
            None
        );
        let t = segment_enters_rect((0.0, 5.0), (20.0, 5.0), (10.0, 0.0), (12.0, 10.0));
        assert_eq!(t, Some(0.5));
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
