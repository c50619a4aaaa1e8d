# The campaign-events command in a small runtime image (multi-stage, runs as a non-root user).
#   docker build -t campaign-events --build-arg SOURCE_COMMIT=$(git rev-parse --short HEAD) .
#   docker run --rm campaign-events --help
# In the image, metrics (9464) and health (9465) listen on all interfaces
# (Observability__ListenAddress=0.0.0.0), so probes and Prometheus reach them; the HEALTHCHECK asks
# /readyz through the program itself (`campaign-events health`), as the runtime image has no curl.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# restore layer: only what restore reads, so editing code does not download the packages again
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props .editorconfig ./
COPY src/CampaignEvents.Contracts/CampaignEvents.Contracts.csproj src/CampaignEvents.Contracts/
COPY src/CampaignEvents.Infrastructure/CampaignEvents.Infrastructure.csproj src/CampaignEvents.Infrastructure/
COPY src/CampaignEvents.Sync/CampaignEvents.Sync.csproj src/CampaignEvents.Sync/
COPY src/CampaignEvents.Source/CampaignEvents.Source.csproj src/CampaignEvents.Source/
COPY src/CampaignEvents.Reconciliation/CampaignEvents.Reconciliation.csproj src/CampaignEvents.Reconciliation/
COPY src/CampaignEvents.Cli/CampaignEvents.Cli.csproj src/CampaignEvents.Cli/
# self-contained and ahead-of-time compiled with the runtime as one composite image (ReadyToRun),
# for the image's architecture, so a command starts without JIT-compiling most of its code first
# (docs/adr/0021); -a takes Docker's amd64/arm64
ARG TARGETARCH=amd64
RUN dotnet restore src/CampaignEvents.Cli/CampaignEvents.Cli.csproj -a "$TARGETARCH" -p:SelfContained=true -p:PublishReadyToRun=true
# then the rest
COPY database/ database/
COPY src/ src/
# the build context has no .git: the commit comes in as an argument (InformationalVersion <Version of Directory.Build.props>+<commit>)
ARG SOURCE_COMMIT=""
RUN dotnet publish src/CampaignEvents.Cli -c Release -a "$TARGETARCH" --self-contained -p:PublishReadyToRun=true -p:PublishReadyToRunComposite=true \
    -o /app --no-restore -p:SourceRevisionId="${SOURCE_COMMIT}"

# the program carries its runtime: the base image only needs what the runtime needs of the system
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0 AS runtime
ARG SOURCE_COMMIT=""
# the image label; equal to Version of Directory.Build.props (VersionTests checks it)
ARG VERSION=0.3.0-dev
ARG CREATED=""
LABEL org.opencontainers.image.title="campaign-events" \
      org.opencontainers.image.description="Keeps campaign contacts in a local PostgreSQL in step with an external database through RabbitMQ" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${SOURCE_COMMIT}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="CampaignEvents contributors" \
      org.opencontainers.image.documentation="README.md (Containers)"
WORKDIR /app
COPY --from=build /app ./
# the .NET base images (runtime-deps too) carry the unprivileged user "app"
USER app
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    Observability__ListenAddress=0.0.0.0 \
    Observability__MetricsPort=9464 \
    Observability__HealthPort=9465
# Prometheus metrics (/metrics) and health (/healthz, /readyz) of `campaign-events run`
EXPOSE 9464 9465
# only `run` serves /readyz; one-shot commands (migrate, demo) disable it in docker-compose.yml
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/app/campaign-events", "health", "--timeout", "4"]
ENTRYPOINT ["/app/campaign-events"]
CMD ["--help"]
