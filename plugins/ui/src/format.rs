//! Value ↔ text conversions for parameters, with units. Parsers accept what a user types: an
//! optional unit (any case), a Unicode minus, a comma as decimal separator, `k` for thousands.

use std::sync::Arc;

type ValueToString = Arc<dyn Fn(f32) -> String + Send + Sync>;
type StringToValue = Arc<dyn Fn(&str) -> Option<f32> + Send + Sync>;

/// Splits "−3.5 dBTP" into (−3.5, "dbtp"). Returns `None` when there is no number.
pub fn parse_number_and_unit(text: &str) -> Option<(f32, String)> {
    let text = text.trim().replace('\u{2212}', "-").replace(',', ".");
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == 'e'))
        .unwrap_or(text.len());
    // An 'e' that starts a unit ("e.g. ...") is not an exponent; keep it simple: only accept an
    // exponent when digits follow it.
    let (number, unit) = text.split_at(split);
    let number: f32 = number.trim().parse().ok()?;
    number
        .is_finite()
        .then(|| (number, unit.trim().to_ascii_lowercase()))
}

/// "−3.0 dB" with `digits` decimals; −inf below −150 dB.
pub fn v2s_db(digits: usize) -> ValueToString {
    Arc::new(move |db| {
        if db <= -150.0 {
            "-inf dB".to_string()
        } else {
            format!("{db:.digits$} dB")
        }
    })
}

/// Parses "-3", "-3 dB", "−3dBTP", "-3 dbfs".
pub fn s2v_db() -> StringToValue {
    Arc::new(|text| {
        let (value, unit) = parse_number_and_unit(text)?;
        matches!(unit.as_str(), "" | "db" | "dbtp" | "dbfs" | "lu").then_some(value)
    })
}

/// "2.50 ms" below a second, "1.20 s" above.
pub fn v2s_ms() -> ValueToString {
    Arc::new(|ms| {
        if ms >= 1000.0 {
            format!("{:.2} s", ms / 1000.0)
        } else if ms >= 100.0 {
            format!("{ms:.0} ms")
        } else if ms >= 10.0 {
            format!("{ms:.1} ms")
        } else {
            format!("{ms:.2} ms")
        }
    })
}

/// Parses "250", "250 ms", "0.25 s", "1.5s".
pub fn s2v_ms() -> StringToValue {
    Arc::new(|text| {
        let (value, unit) = parse_number_and_unit(text)?;
        match unit.as_str() {
            "" | "ms" => Some(value),
            "s" | "sec" => Some(value * 1000.0),
            _ => None,
        }
    })
}

/// "75 %" for a 0..1 value.
pub fn v2s_percent() -> ValueToString {
    Arc::new(|value| format!("{:.0} %", value * 100.0))
}

/// Parses "75", "75 %", "75%" into 0.75.
pub fn s2v_percent() -> StringToValue {
    Arc::new(|text| {
        let (value, unit) = parse_number_and_unit(text)?;
        matches!(unit.as_str(), "" | "%").then_some(value / 100.0)
    })
}

/// "1.50 kHz" above 1 kHz, "250 Hz" below.
pub fn v2s_hz() -> ValueToString {
    Arc::new(|hz| {
        if hz >= 1000.0 {
            format!("{:.2} kHz", hz / 1000.0)
        } else {
            format!("{hz:.0} Hz")
        }
    })
}

/// Parses "1500", "1.5k", "1.5 kHz", "250 Hz".
pub fn s2v_hz() -> StringToValue {
    Arc::new(|text| {
        let (value, unit) = parse_number_and_unit(text)?;
        match unit.as_str() {
            "" | "hz" => Some(value),
            "k" | "khz" => Some(value * 1000.0),
            _ => None,
        }
    })
}

/// "L 50 %", "C", "R 30 %" for a −1..1 position.
pub fn v2s_pan() -> ValueToString {
    Arc::new(|value| {
        let percent = (value * 100.0).round();
        if percent == 0.0 {
            "C".to_string()
        } else if percent < 0.0 {
            format!("L {:.0} %", -percent)
        } else {
            format!("R {percent:.0} %")
        }
    })
}

/// Parses "C", "L 50", "L50 %", "R 30", "-50" (left), "50" (right) into −1..1.
pub fn s2v_pan() -> StringToValue {
    Arc::new(|text| {
        let text = text.trim().to_lowercase();
        if text == "c" || text == "center" || text == "centre" {
            return Some(0.0);
        }
        let (sign, rest) = if let Some(rest) = text.strip_prefix('l') {
            (-1.0, rest)
        } else if let Some(rest) = text.strip_prefix('r') {
            (1.0, rest)
        } else {
            (1.0, text.as_str())
        };
        let (value, unit) = parse_number_and_unit(rest)?;
        matches!(unit.as_str(), "" | "%").then_some(sign * value / 100.0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_users_type() {
        let db = s2v_db();
        assert_eq!(db("-3 dB"), Some(-3.0));
        assert_eq!(db("\u{2212}1.5dBTP"), Some(-1.5));
        assert_eq!(db(" -0,3 "), Some(-0.3));
        assert_eq!(db("loud"), None);
        assert_eq!(db("3 Hz"), None);
        let ms = s2v_ms();
        assert_eq!(ms("250"), Some(250.0));
        assert_eq!(ms("1.5 s"), Some(1500.0));
        assert_eq!(ms("2ms"), Some(2.0));
        let hz = s2v_hz();
        assert_eq!(hz("1.5k"), Some(1500.0));
        assert_eq!(hz("1.5 kHz"), Some(1500.0));
        assert_eq!(hz("80 Hz"), Some(80.0));
        let pct = s2v_percent();
        assert_eq!(pct("50 %"), Some(0.5));
        assert_eq!(pct("inf"), None);
        let pan = s2v_pan();
        assert_eq!(pan("C"), Some(0.0));
        assert_eq!(pan("L 50"), Some(-0.5));
        assert_eq!(pan("r30%"), Some(0.3));
        assert_eq!(pan("-25"), Some(-0.25));
        assert_eq!(pan("up"), None);
    }

    #[test]
    fn formats_with_units() {
        assert_eq!(v2s_db(1)(-3.0), "-3.0 dB");
        assert_eq!(v2s_ms()(2.5), "2.50 ms");
        assert_eq!(v2s_ms()(1500.0), "1.50 s");
        assert_eq!(v2s_hz()(1500.0), "1.50 kHz");
        assert_eq!(v2s_percent()(0.5), "50 %");
        assert_eq!(v2s_pan()(-0.5), "L 50 %");
        assert_eq!(v2s_pan()(0.001), "C");
    }
}
