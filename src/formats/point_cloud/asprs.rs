//! ASPRS LAS classification codes (LAS 1.4 R15, table 17) and their names, for legends,
//! histograms and picked-point readouts.

/// The standard name of an ASPRS classification code: codes 0–18 are defined, 19–63 reserved,
/// 64–255 user definable.
pub fn class_name(code: u8) -> &'static str {
    match code {
        0 => "Created, never classified",
        1 => "Unclassified",
        2 => "Ground",
        3 => "Low vegetation",
        4 => "Medium vegetation",
        5 => "High vegetation",
        6 => "Building",
        7 => "Low point (noise)",
        8 => "Model key-point",
        9 => "Water",
        10 => "Rail",
        11 => "Road surface",
        12 => "Overlap",
        13 => "Wire guard (shield)",
        14 => "Wire conductor (phase)",
        15 => "Transmission tower",
        16 => "Wire-structure connector",
        17 => "Bridge deck",
        18 => "High noise",
        19..=63 => "Reserved",
        _ => "User defined",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_table() {
        assert_eq!(class_name(2), "Ground");
        assert_eq!(class_name(6), "Building");
        assert_eq!(class_name(18), "High noise");
        assert_eq!(class_name(40), "Reserved");
        assert_eq!(class_name(200), "User defined");
    }
}
