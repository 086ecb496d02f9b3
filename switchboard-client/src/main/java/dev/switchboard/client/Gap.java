package dev.switchboard.client;

/**
 * Messages a subscription will never receive: offsets {@code from} to {@code first - 1} were dropped by retention
 * before it read them. Delivery goes on at {@code first}.
 */
public record Gap(String topic, long from, long first) {}
