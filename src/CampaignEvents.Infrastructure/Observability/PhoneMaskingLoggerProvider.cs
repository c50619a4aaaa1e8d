using System.Collections;
using Microsoft.Extensions.Logging;

namespace CampaignEvents.Infrastructure.Observability;

/// <summary>
/// Wraps the console providers so that every log line goes out with its phone numbers masked
/// (<see cref="PhoneMask"/>): the message, the structured values, the scopes and the exception
/// text, whoever logs it (our code, MassTransit, Npgsql). <c>Observability:MaskPhoneNumbers=false</c>
/// leaves it out, for debugging.
/// </summary>
sealed class PhoneMaskingLoggerProvider(IReadOnlyList<ILoggerProvider> inner) : ILoggerProvider, ISupportExternalScope
{
    public ILogger CreateLogger(string categoryName) => new MaskingLogger([.. inner.Select(p => p.CreateLogger(categoryName))]);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider)
    {
        var masked = new MaskingScopeProvider(scopeProvider);
        foreach (var provider in inner.OfType<ISupportExternalScope>())
        {
            provider.SetScopeProvider(masked);
        }
    }

    public void Dispose()
    {
        foreach (var provider in inner)
        {
            provider.Dispose();
        }
    }

    sealed class MaskingLogger(ILogger[] loggers) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => loggers.Any(l => l.IsEnabled(logLevel));

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var message = PhoneMask.Mask(formatter(state, exception));
            var values = Values(state, message);
            var masked = exception is null ? null : MaskedException.Of(exception);
            foreach (var logger in loggers)
            {
                logger.Log(logLevel, eventId, values, masked, (_, _) => message);
            }
        }

        static MaskedValues Values<TState>(TState state, string message) => state is IReadOnlyList<KeyValuePair<string, object?>> pairs
            ? MaskedValues.Of(pairs, message)
            : new MaskedValues([], message);
    }

    /// <summary>A value as the console formatters would write it, masked when it is text.</summary>
    internal static object? MaskValue(object? value) => value switch
    {
        null or bool or int or long or short or byte or double or float or decimal or Guid or DateTime or DateTimeOffset or TimeSpan or Enum => value,
        string text => PhoneMask.Mask(text),
        IEnumerable<KeyValuePair<string, object?>> pairs => string.Join(", ", pairs.Select(p => $"{p.Key}: {MaskValue(p.Value)}")),
        IEnumerable items => PhoneMask.Mask(string.Join(", ", items.Cast<object?>())),
        _ => PhoneMask.Mask(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? ""),
    };

    /// <summary>The structured values of a log line; the formatters write each pair.</summary>
    sealed class MaskedValues(IReadOnlyList<KeyValuePair<string, object?>> pairs, string text) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public static MaskedValues Of(IReadOnlyList<KeyValuePair<string, object?>> pairs, string text) =>
            new([.. pairs.Select(p => new KeyValuePair<string, object?>(p.Key, p.Key == "{OriginalFormat}" ? p.Value : MaskValue(p.Value)))], text);

        public KeyValuePair<string, object?> this[int index] => pairs[index];

        public int Count => pairs.Count;

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => pairs.GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        /// <summary>The line's text, masked (the JSON formatter writes it as State.Message).</summary>
        public override string ToString() => text;
    }

    /// <summary>An exception whose text (what the formatters write: its ToString) is masked.</summary>
    sealed class MaskedException(Exception original, string text) : Exception(PhoneMask.Mask(original.Message))
    {
        public static Exception Of(Exception original)
        {
            var text = original.ToString();
            var masked = PhoneMask.Mask(text);
            return ReferenceEquals(masked, text) ? original : new MaskedException(original, masked);
        }

        public override string ToString() => text;
    }

    sealed class MaskingScopeProvider(IExternalScopeProvider inner) : IExternalScopeProvider
    {
        public void ForEachScope<TState>(Action<object?, TState> callback, TState state) =>
            inner.ForEachScope((scope, s) => callback(scope switch
            {
                null => null,
                IReadOnlyList<KeyValuePair<string, object?>> pairs => MaskedValues.Of(pairs, PhoneMask.Mask(scope.ToString() ?? "")),
                _ => MaskValue(scope),
            }, s), state);

        public IDisposable Push(object? state) => inner.Push(state);
    }
}
