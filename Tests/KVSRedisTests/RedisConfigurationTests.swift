import KVS
import KVSRedis
import Testing

@Suite("RedisConfiguration")
struct RedisConfigurationTests {
    @Test("validate() accepts the defaults and names the first bad setting")
    func validate() throws {
        try RedisConfiguration().validate()
        try RedisConfiguration(endpoint: RedisEndpoint(host: "10.0.0.1", port: 7000), database: 3).validate()
        let bad: [(RedisConfiguration, String)] = [
            (RedisConfiguration(host: ""), "empty host"),
            (RedisConfiguration(port: 0), "port 0"),
            (RedisConfiguration(port: 70000), "port 70000"),
            (RedisConfiguration(database: -1), "database is -1"),
            (RedisConfiguration(connectionsPerNode: 0), "connectionsPerNode is 0"),
            (RedisConfiguration(scanCount: 0), "scanCount is 0"),
            (RedisConfiguration(requestTimeout: .zero), "must be positive"),
            (RedisConfiguration(connectTimeout: .seconds(-1)), "must be positive"),
        ]
        for (configuration, problem) in bad {
            let error = #expect(throws: KVSError.self) { try configuration.validate() }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.contains(problem) == true, "\(error?.message ?? "") lacks \(problem)")
        }
    }

    @Test("the endpoint is the host and port")
    func endpoint() {
        var configuration = RedisConfiguration(endpoint: RedisEndpoint(host: "h", port: 1234))
        #expect(configuration.host == "h")
        #expect(configuration.port == 1234)
        configuration.endpoint = RedisEndpoint(host: "other", port: 6380)
        #expect(configuration == RedisConfiguration(host: "other", port: 6380))
        #expect(configuration.endpoint.description == "other:6380")
    }
}
