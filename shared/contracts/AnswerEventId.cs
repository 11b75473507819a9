using System.Security.Cryptography;

namespace Telemetry.Contracts;

/// <summary>Name-based (RFC 9562 version 5) event ids, so a resubmitted attempt yields the same ids.</summary>
public static class AnswerEventId
{
    private static readonly Guid Namespace = new("5f0c3b9e-8f6e-4d55-9a53-1a0c2c7d9e41");

    public static Guid For(Guid attemptId, Guid questionId)
    {
        Span<byte> name = stackalloc byte[48];
        Namespace.TryWriteBytes(name[..16], bigEndian: true, out _);
        attemptId.TryWriteBytes(name.Slice(16, 16), bigEndian: true, out _);
        questionId.TryWriteBytes(name.Slice(32, 16), bigEndian: true, out _);

        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(name, hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }
}
