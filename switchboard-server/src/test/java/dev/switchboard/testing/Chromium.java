package dev.switchboard.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebDriverException;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * A real headless Chromium (Debian's {@code chromium} package) driven with Selenium WebDriver through Debian's
 * {@code chromedriver} ({@code chromium-driver} package). Both binaries are given by path, so Selenium Manager never
 * looks anything up or downloads a driver at run time. The page's console messages and the browser's log entries
 * (CORS refusals, network errors, uncaught exceptions) are collected for assertions and failure messages. Close it to
 * quit the browser and its driver.
 *
 * <p>Both are required, not optional: when one is missing the test fails saying how to install it. {@code CHROMIUM}
 * and {@code CHROMEDRIVER} in the environment override the paths.
 */
public final class Chromium implements AutoCloseable {
    private static final int LOG_BYTES = 64 * 1024;

    private final ChromeDriver driver;
    private final ByteArrayOutputStream driverLog;
    private final List<LogEntry> pageLog = new ArrayList<>();

    private Chromium(ChromeDriver driver, ByteArrayOutputStream driverLog) {
        this.driver = driver;
        this.driverLog = driverLog;
    }

    public static Path binary() {
        return Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));
    }

    public static Path driverBinary() {
        return Path.of(System.getenv().getOrDefault("CHROMEDRIVER", "/usr/bin/chromedriver"));
    }

    /** Starts the browser through its driver, or fails saying why. */
    public static Chromium launch(Duration startTimeout) {
        return launch(startTimeout, Map.of());
    }

    /**
     * Starts the browser with {@code environment} added to its own, e.g. a {@code HOME} whose NSS database
     * ({@code .pki/nssdb}) trusts a test's CA.
     */
    public static Chromium launch(Duration startTimeout, Map<String, String> environment) {
        Path binary = binary();
        Path chromedriver = driverBinary();
        if (!Files.isExecutable(binary) || !Files.isExecutable(chromedriver)) {
            throw new AssertionError("the browser tests need headless Chromium and its driver, and " + binary + " or "
                    + chromedriver + " is missing: install them with `apt-get install -y chromium chromium-driver`"
                    + " (bin/test does), or point CHROMIUM and CHROMEDRIVER at the binaries");
        }
        ChromeOptions options = new ChromeOptions().setBinary(binary.toFile()).addArguments("--headless=new",
                "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--mute-audio", "--window-size=1400,1000");
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        BoundedLog driverLog = new BoundedLog();
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(chromedriver.toFile())
                .usingAnyFreePort().withEnvironment(environment).withLogOutput(driverLog).build();
        ChromeDriver driver;
        try {
            driver = new ChromeDriver(service, options);
        } catch (WebDriverException e) {
            service.stop();
            throw new AssertionError("Chromium did not start: " + e.getMessage() + "\n" + driverLog, e);
        }
        driver.manage().timeouts().pageLoadTimeout(startTimeout).scriptTimeout(startTimeout);
        return new Chromium(driver, driverLog);
    }

    /** The WebDriver, for tests that drive the page (find elements, type, click). */
    public WebDriver driver() {
        return driver;
    }

    /** Navigates to {@code url} and returns once it loaded; the page's scripts then run on their own. */
    public void open(String url) {
        try {
            driver.get(url);
        } catch (WebDriverException e) {
            throw new AssertionError("Chromium could not load " + url + ": " + e.getMessage());
        }
    }

    /** Evaluates a JavaScript expression in the page and returns its value as text, or a parenthesised failure. */
    public String evaluate(String expression) {
        try {
            return String.valueOf(((JavascriptExecutor) driver).executeScript("return " + expression + ";"));
        } catch (WebDriverException e) {
            return "(evaluate failed: " + e.getMessage() + ")";
        }
    }

    /** What the page and the browser said: console messages, exceptions, log entries, oldest first. */
    public String pageLog() {
        List<String> lines = new ArrayList<>();
        for (LogEntry e : logEntries()) {
            lines.add(e.getLevel() + " " + e.getMessage());
        }
        return String.join("\n", lines);
    }

    /** The page's errors so far: console errors, uncaught exceptions, failed loads. */
    public List<String> errors() {
        return logEntries().stream().filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue())
                .map(LogEntry::getMessage).toList();
    }

    private synchronized List<LogEntry> logEntries() {
        try {
            driver.manage().logs().get(LogType.BROWSER).forEach(pageLog::add);
        } catch (WebDriverException e) {
            // the browser is gone; what was collected stays
        }
        return List.copyOf(pageLog);
    }

    /** The driver's last output (startup errors, crashes). */
    public String output() {
        return driverLog.toString();
    }

    /** Saves a screenshot of the page as PNG. */
    public void screenshot(Path file) {
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        driver.quit(); // ends the browser's processes and the driver
    }

    /** The driver's log, keeping its last {@link #LOG_BYTES}. */
    private static final class BoundedLog extends ByteArrayOutputStream {
        @Override
        public synchronized void write(byte[] b, int off, int len) {
            super.write(b, off, len);
            if (count > 2 * LOG_BYTES) {
                byte[] tail = java.util.Arrays.copyOfRange(buf, count - LOG_BYTES, count);
                reset();
                super.write(tail, 0, tail.length);
            }
        }

        @Override
        public synchronized String toString() {
            return toString(StandardCharsets.UTF_8);
        }
    }
}
