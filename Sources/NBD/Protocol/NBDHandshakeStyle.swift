/// Which handshake a listener speaks.
public enum NBDHandshakeStyle: Sendable, Hashable {
    /// Fixed newstyle with options (the default, and what every current client speaks).
    case newstyle
    /// The pre-2011 oldstyle handshake: size and flags at once, no export names. Opt-in on legacy ports.
    case oldstyle
}
