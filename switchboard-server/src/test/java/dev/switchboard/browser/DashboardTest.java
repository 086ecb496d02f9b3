package dev.switchboard.browser;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.testing.Chromium;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard at {@code /} in headless Chromium: it loads without errors, lists the test's own connection among
 * the connections with the kernel's columns, and a message published through its panel arrives over SSE, WebSocket
 * and long polling. The screenshot is kept as {@code target/dashboard.png}.
 */
@Slow
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class DashboardTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private TestServer server;
    private Chromium chromium;
    private Socket own;

    @AfterEach
    void stop() throws Exception {
        try {
            if (chromium != null) {
                chromium.screenshot(Path.of("target", "dashboard.png"));
                chromium.close();
            }
        } finally {
            if (own != null) {
                own.close();
            }
            if (server != null) {
                server.close();
            }
        }
    }

    @Test
    void showsTheTestsConnectionsAndAMessagePublishedThroughThePanelArrivesThreeWays() throws Exception {
        server = TestServer.start(c -> c.withStageSample(1));
        // a connection of the test's own, holding a long poll, which the table must list
        own = new Socket("127.0.0.1", server.port());
        OutputStream out = own.getOutputStream();
        out.write(("GET /v1/topics/dashboard.own/messages?from=1&wait=60s HTTP/1.1\r\nHost: localhost\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();

        HttpResponse<String> page = server.get("/");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
        assertThat(page.headers().firstValue("Content-Security-Policy")).isPresent();

        chromium = Chromium.launch(WAIT);
        chromium.open(server.url() + "/");
        WebDriver driver = chromium.driver();
        // the tables are drawn again with every snapshot: an element found may be replaced before it is read
        WebDriverWait wait = new WebDriverWait(driver, WAIT);
        wait.ignoring(StaleElementReferenceException.class);
        String ownRemote = "127.0.0.1:" + own.getLocalPort();

        List<String> cells = wait.until(d -> {
            List<WebElement> rows = d.findElements(By.cssSelector("#connections tbody tr[data-remote='" + ownRemote
                    + "']"));
            return rows.isEmpty() ? null : rows.getFirst().findElements(By.tagName("td")).stream()
                    .map(WebElement::getText).toList();
        });
        assertThat(cells).hasSize(18);
        assertThat(cells.get(1)).as("the transport column").isEqualTo("longpoll");
        assertThat(cells.get(2)).as("the remote column").isEqualTo(ownRemote);
        assertThat(cells.get(15)).as("the nodelay column").isEqualTo("on");
        // the browser's own EventSource and WebSocket are listed too
        wait.until(d -> !d.findElements(By.cssSelector("#connections tbody tr[data-transport='ws']")).isEmpty()
                && d.findElements(By.cssSelector("#connections tbody tr[data-transport='sse']")).size() >= 2);

        for (String via : List.of("sse", "ws")) {
            wait.until(d -> d.findElement(By.id("state-" + via)).getText().equals("open"));
        }
        WebElement text = driver.findElement(By.id("demo-text"));
        text.clear();
        text.sendKeys("seen three ways");
        driver.findElement(By.id("demo-publish")).click();
        for (String via : List.of("sse", "ws", "longpoll")) {
            wait.until(d -> d.findElement(By.id("via-" + via)).getText().contains("seen three ways"));
        }
        assertThat(driver.findElement(By.id("demo-result")).getText()).startsWith("stored at offset 1");
        wait.until(d -> !d.findElements(By.cssSelector("#topics tbody tr[data-topic='dashboard.demo']")).isEmpty());
        wait.until(d -> !d.findElement(By.cssSelector("#stages tbody tr[data-stage='store'] td:nth-child(2)"))
                .getText().equals("0"));

        assertThat(chromium.errors()).as("the page's errors; its log:\n%s", chromium.pageLog()).isEmpty();
    }
}
