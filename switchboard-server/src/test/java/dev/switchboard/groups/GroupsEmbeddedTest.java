package dev.switchboard.groups;

import dev.switchboard.config.ServerConfig;

/** The group contract on the embedded log. */
class GroupsEmbeddedTest extends GroupContract {
    @Override
    ServerConfig onEngine(ServerConfig config) {
        return config;
    }
}
