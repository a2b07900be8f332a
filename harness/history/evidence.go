package history

// KindEvidenceLost (Source harness, Server or Link, Reason): the harness
// stopped receiving a server's or a link's events before the run ended (the
// event stream from a serve process broke and could not be resumed from
// where it stopped). What that server or link saw afterwards is missing
// from the history, so a client's claim can no longer be checked against
// it: check.Timeline makes every judged result of the run UNKNOWN rather
// than blame the SDK for evidence the harness lost.
const KindEvidenceLost = "evidence.lost"
