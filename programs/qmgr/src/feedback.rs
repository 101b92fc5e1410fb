//! Concurrency feedback: how much a destination's window moves after one delivery.
//!
//! Postfix counterpart: `qmgr/qmgr_feedback.c` (`qmgr_feedback_init`, and the
//! `QMGR_FEEDBACK_VAL` macro in `qmgr.h`). A setting is a number (`0.5`), a fraction
//! (`1/8`), or a fraction of the window (`1/concurrency`); anything else, or a value
//! outside 0..1, is warned about and replaced by 1, as Postfix does.

/// One feedback setting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Feedback {
    /// The numerator, or the whole value when `per_window` is false.
    base: f64,
    /// Divided by the current window (`N/concurrency`).
    per_window: bool,
}

impl Default for Feedback {
    fn default() -> Feedback {
        Feedback {
            base: 1.0,
            per_window: false,
        }
    }
}

impl Feedback {
    /// The setting `value` of parameter `name`; `default_name` is the `default_` parameter
    /// named in the warning when `value` is its value (Postfix names whichever the
    /// administrator wrote).
    pub fn parse(name: &str, value: &str, default_name: &str, default_value: &str) -> Feedback {
        match parse(value) {
            Some(feedback) if (0.0..=1.0).contains(&feedback.base) => feedback,
            _ => {
                let shown = if value != default_value {
                    name
                } else {
                    default_name
                };
                log::msg_warn!("{shown}: ignoring malformed or unreasonable feedback: {value}");
                Feedback::default()
            }
        }
    }

    /// Postfix's feedback type: 0 a constant, 1 divided by the window
    /// (`QMGR_FEEDBACK_IDX_*`).
    pub fn kind(&self) -> u8 {
        u8::from(self.per_window)
    }

    /// The feedback at concurrency `window`.
    pub fn value(&self, window: usize) -> f64 {
        if self.per_window {
            self.base / window.max(1) as f64
        } else {
            self.base
        }
    }
}

/// `N`, `N/D` or `N/concurrency`, read as Postfix's `sscanf("%lf %1[/] %30s%c")` does:
/// text after the number that does not start with `/` is ignored, text after the
/// denominator is not.
fn parse(value: &str) -> Option<Feedback> {
    let text = value.trim_start();
    let number_end = text
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_digit() || c == '.' || ((c == '-' || c == '+') && i == 0))
                && !((c == 'e' || c == 'E') && i > 0)
        })
        .map_or(text.len(), |(i, _)| i);
    let base: f64 = text[..number_end].parse().ok()?;
    let rest = text[number_end..].trim_start();
    let Some(denominator) = rest.strip_prefix('/') else {
        return Some(Feedback {
            base,
            per_window: false,
        });
    };
    let denominator = denominator.trim_start();
    if denominator.is_empty() || denominator.len() > 30 || denominator.contains(char::is_whitespace)
    {
        return None;
    }
    if denominator == "concurrency" {
        return Some(Feedback {
            base,
            per_window: true,
        });
    }
    let divisor: f64 = denominator.parse().ok()?;
    let bounds = 1.0 / f64::from(i32::MAX)..=f64::from(i32::MAX);
    if !(0.0..=f64::from(i32::MAX)).contains(&base) || !bounds.contains(&divisor) {
        return None;
    }
    Some(Feedback {
        base: base / divisor,
        per_window: false,
    })
}

/// `x` as C's `%g` prints it (six significant digits, no trailing zeros), for the
/// feedback debug lines.
pub fn g(x: f64) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    let exponent = x.abs().log10().floor() as i32;
    if !(-4..6).contains(&exponent) {
        let text = format!("{:.5e}", x);
        let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
        let mantissa = trim_zeros(mantissa);
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    let decimals = (5 - exponent).max(0) as usize;
    trim_zeros(&format!("{x:.decimals$}")).to_string()
}

fn trim_zeros(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fb(value: &str) -> Feedback {
        Feedback::parse("smtp_x", value, "default_x", "1")
    }

    #[test]
    fn forms() {
        assert_eq!(fb("1").value(4), 1.0);
        assert_eq!(fb("0.5").value(4), 0.5);
        assert_eq!(fb("1/8").value(4), 0.125);
        assert_eq!(fb("1 / 4").value(7), 0.25);
        assert_eq!(fb("1/concurrency").value(4), 0.25);
        // Out of bounds or malformed: 1, with a warning.
        assert_eq!(fb("2/concurrency").value(4), 1.0);
        assert_eq!(fb("2").value(4), 1.0);
        assert_eq!(fb("1/0").value(4), 1.0);
        assert_eq!(fb("x").value(4), 1.0);
        assert_eq!(fb("1/8 junk").value(4), 1.0);
        assert_eq!(fb("1/sqrt_concurrency").value(4), 1.0);
    }

    #[test]
    fn percent_g() {
        assert_eq!(g(0.0), "0");
        assert_eq!(g(1.0), "1");
        assert_eq!(g(-1.0), "-1");
        assert_eq!(g(0.25), "0.25");
        assert_eq!(g(1.0 / 3.0), "0.333333");
        assert_eq!(g(0.2 + 1.0 / 3.0), "0.533333");
        assert_eq!(g(1e-5), "1e-05");
        assert_eq!(g(1234567.0), "1.23457e+06");
    }
}
