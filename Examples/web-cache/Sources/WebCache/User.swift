/// A user as the slow ``UserDatabase`` returns it and the cache keeps it; the body of
/// `GET /users/<id>` is its JSON.
package struct User: Codable, Sendable, Equatable {
    /// The user's number, as in the path.
    package var id: Int
    /// A made-up name, `User <id>`.
    package var name: String
    /// A made-up address, `user<id>@example.com`.
    package var email: String

    /// A user with the given fields.
    package init(id: Int, name: String, email: String) {
        self.id = id
        self.name = name
        self.email = email
    }
}
