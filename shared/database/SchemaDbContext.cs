using Microsoft.EntityFrameworkCore;

namespace Telemetry.Database;

/// <summary>
/// Carries the hand-authored migrations of the whole database (EF's design-time tooling does not restore here).
/// It maps no entities: services read and write through their own contexts or plain Npgsql.
/// </summary>
public sealed class SchemaDbContext(DbContextOptions<SchemaDbContext> options) : DbContext(options);
