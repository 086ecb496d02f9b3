package dev.switchboard.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The server's layers follow the path of a message (docs/architecture.md): transport → codec → router → broker →
 * log → fan-out. Each layer uses only the layers below it, and no two packages depend on each other.
 */
@AnalyzeClasses(packages = "dev.switchboard", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    @ArchTest
    static final ArchRule noPackageCycles = slices().matching("dev.switchboard.(**)").should().beFreeOfCycles();

    @ArchTest
    static final ArchRule layersUseOnlyTheLayersBelow = layeredArchitecture().consideringOnlyDependenciesInLayers()
            .layer("Server").definedBy("dev.switchboard.server..")
            .layer("Transport").definedBy("dev.switchboard.transport..")
            .layer("Router").definedBy("dev.switchboard.router..")
            .layer("Codec").definedBy("dev.switchboard.codec..")
            .layer("Auth").definedBy("dev.switchboard.auth..")
            .layer("Jobs").definedBy("dev.switchboard.jobs..")
            .layer("Groups").definedBy("dev.switchboard.groups..")
            .layer("Presence").definedBy("dev.switchboard.presence..")
            .layer("Delivery").definedBy("dev.switchboard.fanout..")
            .layer("Engine").definedBy("dev.switchboard.log..", "dev.switchboard.engine..")
            .layer("Contract").definedBy("dev.switchboard.broker..")
            .layer("Xray").definedBy("dev.switchboard.xray..")
            .layer("Config").definedBy("dev.switchboard.config..")
            .layer("Wire").definedBy("dev.switchboard.wire..")
            .whereLayer("Server").mayNotBeAccessedByAnyLayer()
            .whereLayer("Transport").mayOnlyBeAccessedByLayers("Server")
            .whereLayer("Router").mayOnlyBeAccessedByLayers("Server")
            .whereLayer("Codec").mayOnlyBeAccessedByLayers("Router", "Server")
            .whereLayer("Auth").mayOnlyBeAccessedByLayers("Codec", "Router", "Server")
            .whereLayer("Jobs").mayOnlyBeAccessedByLayers("Codec", "Server")
            .whereLayer("Groups").mayOnlyBeAccessedByLayers("Codec", "Server")
            .whereLayer("Presence").mayOnlyBeAccessedByLayers("Codec", "Server")
            .whereLayer("Delivery").mayOnlyBeAccessedByLayers("Codec", "Server")
            .whereLayer("Engine").mayOnlyBeAccessedByLayers("Server")
            .whereLayer("Contract").mayOnlyBeAccessedByLayers("Engine", "Delivery", "Jobs", "Groups", "Presence", "Codec",
                    "Router", "Config", "Server")
            .whereLayer("Xray").mayOnlyBeAccessedByLayers("Delivery", "Codec", "Router", "Transport", "Server")
            .whereLayer("Config").mayOnlyBeAccessedByLayers("Engine", "Delivery", "Jobs", "Groups", "Codec", "Auth", "Router",
                    "Transport", "Server");

    /** Only the composition root and the embedded engine itself may know which engine runs. */
    @ArchTest
    static final ArchRule theContractKnowsNoEngineNoTransportAndNoConfig = noClasses()
            .that().resideInAPackage("dev.switchboard.broker..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.switchboard.log..", "dev.switchboard.engine..",
                    "dev.switchboard.fanout..", "dev.switchboard.codec..", "dev.switchboard.config..", "io.netty..",
                    "org.rocksdb..", "io.lettuce..");

    /** Delivery and jobs work on every engine: they see the contract, never the embedded log or its store. */
    @ArchTest
    static final ArchRule deliveryAndJobsAreEngineNeutral = noClasses()
            .that().resideInAnyPackage("dev.switchboard.fanout..", "dev.switchboard.jobs..", "dev.switchboard.groups..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.switchboard.log..", "dev.switchboard.engine..",
                    "org.rocksdb..", "io.lettuce..");

    /** HTTP statuses belong to the HTTP layer: nothing below the codecs knows Netty's HTTP types. */
    @ArchTest
    static final ArchRule onlyCodecsKnowHttp = noClasses()
            .that().resideInAnyPackage("dev.switchboard.broker..", "dev.switchboard.log..",
                    "dev.switchboard.engine..", "dev.switchboard.fanout..", "dev.switchboard.jobs..",
                    "dev.switchboard.groups..", "dev.switchboard.config..")
            .should().dependOnClassesThat().resideInAPackage("io.netty.handler.codec.http..");
}
