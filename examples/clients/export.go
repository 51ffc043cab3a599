// Export an exact amount from a wallet into a file, then poll the task until it ends
// (Go standard library only).
//
// It sends no token, so the server must run with --no-auth (loopback only):
//
//	cloudcoin-server --no-auth
//
// Settings (environment): CLOUDCOIN_API (default http://127.0.0.1:8006/api/v1), WALLET (Default),
// AMOUNT (10.5), FOLDER (/tmp/cloudcoin-out, which must exist), TYPE (zip: stack, png, zip or bin).
//
//	go run examples/clients/export.go
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"
)

// envelope is every answer of the API: {"status":..., "payload":{...}}.
type envelope struct {
	Status  string `json:"status"`
	Payload struct {
		ID       string `json:"id"`
		Status   string `json:"status"`
		Progress int    `json:"progress"`
		Message  string `json:"message"`
		Data     struct {
			File string `json:"file"`
		} `json:"data"`
	} `json:"payload"`
}

func setting(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func decode(resp *http.Response) envelope {
	defer resp.Body.Close()
	var e envelope
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		fmt.Fprintln(os.Stderr, "the answer is not JSON:", err)
		os.Exit(1)
	}
	return e
}

func main() {
	api := setting("CLOUDCOIN_API", "http://127.0.0.1:8006/api/v1")
	// The amount goes as a JSON string so it stays exact; a JSON number works too.
	request, _ := json.Marshal(map[string]string{
		"name":   setting("WALLET", "Default"),
		"amount": setting("AMOUNT", "10.5"),
		"folder": setting("FOLDER", "/tmp/cloudcoin-out"),
		"type":   setting("TYPE", "zip"),
	})
	resp, err := http.Post(api+"/export", "application/json", bytes.NewReader(request))
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot reach the server:", err)
		os.Exit(1)
	}
	fmt.Println("POST /export:", resp.Status)
	answer := decode(resp)
	if answer.Payload.Status == "error" {
		fmt.Fprintln(os.Stderr, "Export refused:", answer.Payload.Message)
		os.Exit(1)
	}
	id := answer.Payload.ID
	fmt.Printf("Export task %s started\n", id)

	for {
		resp, err := http.Get(api + "/tasks/" + id)
		if err != nil {
			fmt.Fprintln(os.Stderr, "cannot reach the server:", err)
			os.Exit(1)
		}
		task := decode(resp)
		fmt.Printf("Progress: %d%%\n", task.Payload.Progress)
		switch task.Payload.Status {
		case "completed":
			fmt.Println("Export completed:", task.Payload.Data.File)
			return
		case "error":
			fmt.Fprintln(os.Stderr, "Export failed:", task.Payload.Message)
			os.Exit(1)
		}
		time.Sleep(time.Second)
	}
}
