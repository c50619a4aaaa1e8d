# The campaign-events command in a small runtime image (multi-stage, runs as a non-root user).
#   docker build -t campaign-events .
#   docker run --rm campaign-events --help
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY database/ database/
COPY src/ src/
RUN dotnet publish src/CampaignEvents.Cli -c Release -o /app --nologo

FROM mcr.microsoft.com/dotnet/runtime:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# the runtime images carry the unprivileged user "app"
USER app
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1
ENTRYPOINT ["./campaign-events"]
CMD ["--help"]
