using CampaignEvents.Contracts;
using CampaignEvents.Infrastructure.Configuration;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CampaignEvents.Infrastructure.Messaging;

public static class BusRegistration
{
    /// <summary>
    /// MassTransit on RabbitMQ with the project's conventions: plain JSON on the wire (no
    /// MassTransit envelope, so any language can publish), pinned exchange names, publisher
    /// confirms. Each role adds its consumers through <paramref name="consumers"/>.
    /// </summary>
    public static IHostApplicationBuilder AddCampaignEventsBus(
        this IHostApplicationBuilder builder,
        Action<IBusRegistrationConfigurator> consumers)
    {
        builder.Services.AddOptions<RabbitMqOptions>()
            .BindConfiguration(RabbitMqOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddMassTransit(x =>
        {
            consumers(x);
            x.UsingRabbitMq((context, cfg) =>
            {
                var options = context.GetRequiredService<IOptions<RabbitMqOptions>>().Value;
                cfg.Host(options.Host, (ushort)options.Port, options.VirtualHost, h =>
                {
                    h.Username(options.Username);
                    h.Password(options.Password);
                    h.PublisherConfirmation = true;
                });
                ConfigureWire(cfg);
                cfg.ConfigureEndpoints(context);
            });
        });
        return builder;
    }

    /// <summary>Plain JSON and the pinned exchange names; shared by every bus the project builds.</summary>
    public static void ConfigureWire(IRabbitMqBusFactoryConfigurator cfg)
    {
        cfg.UseRawJsonSerializer(
            RawSerializerOptions.AnyMessageType | RawSerializerOptions.AddTransportHeaders | RawSerializerOptions.CopyHeaders,
            isDefault: true);
        cfg.Message<ContactChanged>(m => m.SetEntityName(Topology.ContactChangedExchange));
        cfg.Message<ContactDeleted>(m => m.SetEntityName(Topology.ContactDeletedExchange));
        cfg.Message<ContactChangeBatch>(m => m.SetEntityName(Topology.ContactChangeBatchExchange));
        cfg.Message<CampaignChanged>(m => m.SetEntityName(Topology.CampaignChangedExchange));
    }
}
