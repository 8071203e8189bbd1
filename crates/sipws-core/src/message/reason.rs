//! Default reason phrases for SIP status codes (RFC 3261 §21, plus the
//! extension codes a SIP-over-WebSocket client meets in practice).

/// The default reason phrase for a status code: the RFC 3261 §21 phrase
/// (or the defining extension RFC's), `None` for a code sipws does not
/// know.
#[must_use]
pub fn reason_phrase(status: u16) -> Option<&'static str> {
    Some(match status {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        199 => "Early Dialog Terminated",
        200 => "OK",
        202 => "Accepted",
        204 => "No Notification",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        305 => "Use Proxy",
        380 => "Alternative Service",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        410 => "Gone",
        412 => "Conditional Request Failed",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        417 => "Unknown Resource-Priority",
        420 => "Bad Extension",
        421 => "Extension Required",
        422 => "Session Interval Too Small",
        423 => "Interval Too Brief",
        428 => "Use Identity Header",
        429 => "Provide Referrer Identity",
        430 => "Flow Failed",
        433 => "Anonymity Disallowed",
        436 => "Bad Identity Info",
        437 => "Unsupported Credential",
        438 => "Invalid Identity Header",
        439 => "First Hop Lacks Outbound Support",
        440 => "Max-Breadth Exceeded",
        469 => "Bad Info Package",
        470 => "Consent Needed",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        484 => "Address Incomplete",
        485 => "Ambiguous",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        489 => "Bad Event",
        491 => "Request Pending",
        493 => "Undecipherable",
        494 => "Security Agreement Required",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        555 => "Push Notification Service Not Supported",
        580 => "Precondition Failure",
        600 => "Busy Everywhere",
        603 => "Decline",
        604 => "Does Not Exist Anywhere",
        606 => "Not Acceptable",
        607 => "Unwanted",
        608 => "Rejected",
        _ => return None,
    })
}

/// The reason phrase sipws writes when none is given: the known phrase, or
/// for an unknown code the phrase of its class's `x00` code (RFC 3261
/// §8.1.3.2 treats an unknown code like `x00`), e.g. `"Bad Request"` for 499.
#[must_use]
pub fn default_reason_phrase(status: u16) -> &'static str {
    if let Some(r) = reason_phrase(status) {
        return r;
    }
    match status / 100 {
        1 => "Trying",
        2 => "OK",
        3 => "Multiple Choices",
        4 => "Bad Request",
        5 => "Server Internal Error",
        _ => "Busy Everywhere",
    }
}

#[cfg(test)]
mod tests {
    use super::{default_reason_phrase, reason_phrase};

    #[test]
    fn rfc3261_phrases() {
        assert_eq!(reason_phrase(100), Some("Trying"));
        assert_eq!(reason_phrase(200), Some("OK"));
        assert_eq!(reason_phrase(401), Some("Unauthorized"));
        assert_eq!(reason_phrase(407), Some("Proxy Authentication Required"));
        assert_eq!(reason_phrase(481), Some("Call/Transaction Does Not Exist"));
        assert_eq!(reason_phrase(487), Some("Request Terminated"));
        assert_eq!(reason_phrase(603), Some("Decline"));
        assert_eq!(reason_phrase(499), None);
    }

    #[test]
    fn unknown_codes_fall_back_to_their_class() {
        assert_eq!(default_reason_phrase(199), "Early Dialog Terminated");
        assert_eq!(default_reason_phrase(150), "Trying");
        assert_eq!(default_reason_phrase(299), "OK");
        assert_eq!(default_reason_phrase(499), "Bad Request");
        assert_eq!(default_reason_phrase(599), "Server Internal Error");
        assert_eq!(default_reason_phrase(699), "Busy Everywhere");
    }
}
